/// How a prefix enters the predictor (the original's `PrefixType`).
public enum PrefixType: String, Codable, CaseIterable, Sendable {
    /// No prefix.
    case none
    /// A K x V real (or hard one-hot) prefix, prepended to every sequence.
    case prepend
    /// A K x V raw prefix; each row goes through a softmax, then as `prepend`.
    case simplex
    /// A K x E prefix in embedding space, inserted after the BOS embedding.
    case embedding
}

/// A prefix together with its type; `Prefix.none` is the absence of one.
public struct Prefix: Equatable, Sendable {
    public var type: PrefixType
    /// K x V (`prepend`, `simplex`) or K x E (`embedding`); nil for `none`.
    public var values: Tensor?

    /// A prefix of the given type.
    public init(type: PrefixType, values: Tensor?) {
        self.type = type
        self.values = values
    }

    /// No prefix.
    public static let none = Prefix(type: .none, values: nil)

    /// K, the number of prefix positions (0 for none).
    public var length: Int { values?.shape.first ?? 0 }

    /// The prefix type each prefix-tuning method uses (nil for weight methods).
    public static func type(for method: TuningMethod) -> PrefixType? {
        switch method {
        case .prefixReal: .prepend
        case .prefixSimplex: .simplex
        case .prefixSoft: .embedding
        default: nil
        }
    }
}

extension PredictorConfig {
    /// The width of a prefix row of `type`: E for an `embedding` prefix
    /// (it enters after the embedding), V for `prepend` and `simplex`
    /// (token space).
    public func prefixWidth(_ type: PrefixType) -> Int {
        type == .embedding ? embeddingDimensionality : tokenDimensionality
    }
}
