/// Configs of the data generators, in the original's dict form.
///
/// JSON keys are exactly the Python dataclass fields of the original
/// (`generator_type`, `batch_size`, `sequence_length`, `vocab_size`, and the
/// generator's own parameters), so a config dumped from the original loads
/// unchanged. `generator_type` selects the case.
public enum DataGeneratorConfig: Codable, Equatable, Sendable {
    case categorical(CategoricalGeneratorConfig)
    case mixtureOfCategoricals(MixtureOfCategoricalsGeneratorConfig)
    case dirichletCategorical(DirichletCategoricalGeneratorConfig)

    /// The `generator_type` strings of the original, one per case.
    public static let generatorTypes = ["Categorical", "Mixture-of-Categoricals", "Dirichlet-Categorical"]

    private enum TypeKey: String, CodingKey { case generator_type }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: TypeKey.self)
        let type = try container.decode(String.self, forKey: .generator_type)
        switch type {
        case "Categorical": self = .categorical(try CategoricalGeneratorConfig(from: decoder))
        case "Mixture-of-Categoricals": self = .mixtureOfCategoricals(try MixtureOfCategoricalsGeneratorConfig(from: decoder))
        case "Dirichlet-Categorical": self = .dirichletCategorical(try DirichletCategoricalGeneratorConfig(from: decoder))
        default:
            throw ThunniniError.invalidConfig("generator_type",
                "unknown generator '\(type)'; expected one of \(Self.generatorTypes.joined(separator: ", "))")
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .categorical(let c): try c.encode(to: encoder)
        case .mixtureOfCategoricals(let c): try c.encode(to: encoder)
        case .dirichletCategorical(let c): try c.encode(to: encoder)
        }
    }

    /// Fields shared by every generator.
    public var batchSize: Int {
        switch self {
        case .categorical(let c): c.batchSize
        case .mixtureOfCategoricals(let c): c.batchSize
        case .dirichletCategorical(let c): c.batchSize
        }
    }

    public var sequenceLength: Int {
        switch self {
        case .categorical(let c): c.sequenceLength
        case .mixtureOfCategoricals(let c): c.sequenceLength
        case .dirichletCategorical(let c): c.sequenceLength
        }
    }

    public var vocabSize: Int {
        switch self {
        case .categorical(let c): c.vocabSize
        case .mixtureOfCategoricals(let c): c.vocabSize
        case .dirichletCategorical(let c): c.vocabSize
        }
    }

    /// The original's `generator_type` string.
    public var generatorType: String {
        switch self {
        case .categorical: "Categorical"
        case .mixtureOfCategoricals: "Mixture-of-Categoricals"
        case .dirichletCategorical: "Dirichlet-Categorical"
        }
    }
}

/// `CategoricalGeneratorConfig`: tokens i.i.d. from fixed `biases` (length V, sums to 1).
public struct CategoricalGeneratorConfig: Codable, Equatable, Sendable {
    public var generatorType: String = "Categorical"
    public var batchSize: Int
    public var sequenceLength: Int
    public var vocabSize: Int
    public var biases: [Double]

    public init(batchSize: Int, sequenceLength: Int, vocabSize: Int, biases: [Double]) {
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.vocabSize = vocabSize
        self.biases = biases
    }

    enum CodingKeys: String, CodingKey {
        case generatorType = "generator_type", batchSize = "batch_size"
        case sequenceLength = "sequence_length", vocabSize = "vocab_size", biases
    }
}

/// `MixtureOfCategoricalsGeneratorConfig`: per sequence a component c drawn
/// from `mixing_weights` (length C), then tokens i.i.d. from `biases[c]` (C x V).
public struct MixtureOfCategoricalsGeneratorConfig: Codable, Equatable, Sendable {
    public var generatorType: String = "Mixture-of-Categoricals"
    public var batchSize: Int
    public var sequenceLength: Int
    public var vocabSize: Int
    public var mixingWeights: [Double]
    public var biases: [[Double]]

    public init(batchSize: Int, sequenceLength: Int, vocabSize: Int, mixingWeights: [Double], biases: [[Double]]) {
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.vocabSize = vocabSize
        self.mixingWeights = mixingWeights
        self.biases = biases
    }

    enum CodingKeys: String, CodingKey {
        case generatorType = "generator_type", batchSize = "batch_size"
        case sequenceLength = "sequence_length", vocabSize = "vocab_size"
        case mixingWeights = "mixing_weights", biases
    }
}

/// `DirichletCategoricalGeneratorConfig`: per sequence probabilities drawn
/// from Dirichlet(`alphas`) (length V, all > 0), then tokens i.i.d.
public struct DirichletCategoricalGeneratorConfig: Codable, Equatable, Sendable {
    public var generatorType: String = "Dirichlet-Categorical"
    public var batchSize: Int
    public var sequenceLength: Int
    public var vocabSize: Int
    public var alphas: [Double]

    public init(batchSize: Int, sequenceLength: Int, vocabSize: Int, alphas: [Double]) {
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.vocabSize = vocabSize
        self.alphas = alphas
    }

    enum CodingKeys: String, CodingKey {
        case generatorType = "generator_type", batchSize = "batch_size"
        case sequenceLength = "sequence_length", vocabSize = "vocab_size", alphas
    }
}
