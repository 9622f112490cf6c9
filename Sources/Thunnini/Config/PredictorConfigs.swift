/// `PredictorConfig`: the wrapper around the torso (embedding V -> E, unembedding O -> V).
public struct PredictorConfig: Codable, Equatable, Sendable {
    /// V: dimensionality of the one-hot inputs.
    public var tokenDimensionality: Int
    /// E: dimensionality after the embedding.
    public var embeddingDimensionality: Int

    public init(tokenDimensionality: Int, embeddingDimensionality: Int) {
        self.tokenDimensionality = tokenDimensionality
        self.embeddingDimensionality = embeddingDimensionality
    }

    enum CodingKeys: String, CodingKey {
        case tokenDimensionality = "token_dimensionality"
        case embeddingDimensionality = "embedding_dimensionality"
    }
}

/// Torso configs in the original's dict form; `torso_type` selects the case.
///
/// `Linear` and `LSTM` have only the shared fields; `Transformer` adds its
/// own (with the original's defaults when a key is absent).
public enum TorsoConfig: Codable, Equatable, Sendable {
    case linear(LinearTorsoConfig)
    case lstm(LSTMTorsoConfig)
    case transformer(TransformerTorsoConfig)

    /// The original's `torso_type` strings.
    public static let torsoTypes = ["Linear", "LSTM", "Transformer"]

    private enum TypeKey: String, CodingKey { case torso_type }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: TypeKey.self)
        let type = try container.decode(String.self, forKey: .torso_type)
        switch type {
        case "Linear": self = .linear(try LinearTorsoConfig(from: decoder))
        case "LSTM": self = .lstm(try LSTMTorsoConfig(from: decoder))
        case "Transformer": self = .transformer(try TransformerTorsoConfig(from: decoder))
        default:
            throw ThunniniError.invalidConfig("torso_type",
                "unknown torso '\(type)'; expected one of \(Self.torsoTypes.joined(separator: ", "))")
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .linear(let c): try c.encode(to: encoder)
        case .lstm(let c): try c.encode(to: encoder)
        case .transformer(let c): try c.encode(to: encoder)
        }
    }

    public var torsoType: String {
        switch self {
        case .linear: "Linear"
        case .lstm: "LSTM"
        case .transformer: "Transformer"
        }
    }

    public var isTrainable: Bool {
        switch self {
        case .linear(let c): c.isTrainable
        case .lstm(let c): c.isTrainable
        case .transformer(let c): c.isTrainable
        }
    }

    public var hiddenSizes: [Int] {
        switch self {
        case .linear(let c): c.hiddenSizes
        case .lstm(let c): c.hiddenSizes
        case .transformer(let c): c.hiddenSizes
        }
    }

    public var returnHiddenStates: Bool {
        switch self {
        case .linear(let c): c.returnHiddenStates
        case .lstm(let c): c.returnHiddenStates
        case .transformer(let c): c.returnHiddenStates
        }
    }
}

/// `LinearTorsoConfig`: a chain of Dense layers with bias, no activation.
public struct LinearTorsoConfig: Codable, Equatable, Sendable {
    public var torsoType: String = "Linear"
    public var isTrainable: Bool
    public var hiddenSizes: [Int]
    public var returnHiddenStates: Bool = false

    public init(isTrainable: Bool = true, hiddenSizes: [Int], returnHiddenStates: Bool = false) {
        self.isTrainable = isTrainable
        self.hiddenSizes = hiddenSizes
        self.returnHiddenStates = returnHiddenStates
    }

    enum CodingKeys: String, CodingKey {
        case torsoType = "torso_type", isTrainable = "is_trainable"
        case hiddenSizes = "hidden_sizes", returnHiddenStates = "return_hidden_states"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        isTrainable = try c.decode(Bool.self, forKey: .isTrainable)
        hiddenSizes = try c.decode([Int].self, forKey: .hiddenSizes)
        returnHiddenStates = try c.decodeIfPresent(Bool.self, forKey: .returnHiddenStates) ?? false
    }
}

/// `LSTMTorsoConfig`: stacked Flax-style LSTM layers, one per hidden size.
public struct LSTMTorsoConfig: Codable, Equatable, Sendable {
    public var torsoType: String = "LSTM"
    public var isTrainable: Bool
    public var hiddenSizes: [Int]
    public var returnHiddenStates: Bool = false

    public init(isTrainable: Bool = true, hiddenSizes: [Int], returnHiddenStates: Bool = false) {
        self.isTrainable = isTrainable
        self.hiddenSizes = hiddenSizes
        self.returnHiddenStates = returnHiddenStates
    }

    enum CodingKeys: String, CodingKey {
        case torsoType = "torso_type", isTrainable = "is_trainable"
        case hiddenSizes = "hidden_sizes", returnHiddenStates = "return_hidden_states"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        isTrainable = try c.decode(Bool.self, forKey: .isTrainable)
        hiddenSizes = try c.decode([Int].self, forKey: .hiddenSizes)
        returnHiddenStates = try c.decodeIfPresent(Bool.self, forKey: .returnHiddenStates) ?? false
    }
}

/// `TransformerTorsoConfig`: decoder-only, post-LN, as in the original.
public struct TransformerTorsoConfig: Codable, Equatable, Sendable {
    public var torsoType: String = "Transformer"
    public var isTrainable: Bool
    public var hiddenSizes: [Int]
    public var returnHiddenStates: Bool = false
    public var numAttentionHeads: Int
    /// Only `SinCos` exists in the original.
    public var positionalEncoding: String = "SinCos"
    /// The MLP's first Dense has `hidden_size * widening_factor` units.
    public var wideningFactor: Int = 4
    /// LayerNorm (scale only) on q and k before the head split.
    public var normalizeQK: Bool = true
    /// Bias in every Dense of the torso.
    public var useBias: Bool = false
    /// LoRA blocks in the four attention Dense layers.
    public var useLoRA: Bool = false
    /// LoRA rank r.
    public var reducedRank: Int = 4

    public init(isTrainable: Bool = true, hiddenSizes: [Int], returnHiddenStates: Bool = false,
                numAttentionHeads: Int, positionalEncoding: String = "SinCos", wideningFactor: Int = 4,
                normalizeQK: Bool = true, useBias: Bool = false, useLoRA: Bool = false, reducedRank: Int = 4) {
        self.isTrainable = isTrainable
        self.hiddenSizes = hiddenSizes
        self.returnHiddenStates = returnHiddenStates
        self.numAttentionHeads = numAttentionHeads
        self.positionalEncoding = positionalEncoding
        self.wideningFactor = wideningFactor
        self.normalizeQK = normalizeQK
        self.useBias = useBias
        self.useLoRA = useLoRA
        self.reducedRank = reducedRank
    }

    enum CodingKeys: String, CodingKey {
        case torsoType = "torso_type", isTrainable = "is_trainable"
        case hiddenSizes = "hidden_sizes", returnHiddenStates = "return_hidden_states"
        case numAttentionHeads = "num_attention_heads", positionalEncoding = "positional_encoding"
        case wideningFactor = "widening_factor", normalizeQK = "normalize_qk"
        case useBias = "use_bias", useLoRA = "use_lora", reducedRank = "reduced_rank"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        isTrainable = try c.decode(Bool.self, forKey: .isTrainable)
        hiddenSizes = try c.decode([Int].self, forKey: .hiddenSizes)
        returnHiddenStates = try c.decodeIfPresent(Bool.self, forKey: .returnHiddenStates) ?? false
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        positionalEncoding = try c.decodeIfPresent(String.self, forKey: .positionalEncoding) ?? "SinCos"
        wideningFactor = try c.decodeIfPresent(Int.self, forKey: .wideningFactor) ?? 4
        normalizeQK = try c.decodeIfPresent(Bool.self, forKey: .normalizeQK) ?? true
        useBias = try c.decodeIfPresent(Bool.self, forKey: .useBias) ?? false
        useLoRA = try c.decodeIfPresent(Bool.self, forKey: .useLoRA) ?? false
        reducedRank = try c.decodeIfPresent(Int.self, forKey: .reducedRank) ?? 4
    }
}
