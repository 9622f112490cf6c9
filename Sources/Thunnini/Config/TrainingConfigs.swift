/// `TrainingConfig`: pretraining by log-loss minimisation.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var numTrainingSteps: Int
    public var learningRate: Double
    public var maxGradNorm: Double
    public var dataGenSeed: Int
    public var predictorInitSeed: Int

    public init(numTrainingSteps: Int, learningRate: Double, maxGradNorm: Double, dataGenSeed: Int, predictorInitSeed: Int) {
        self.numTrainingSteps = numTrainingSteps
        self.learningRate = learningRate
        self.maxGradNorm = maxGradNorm
        self.dataGenSeed = dataGenSeed
        self.predictorInitSeed = predictorInitSeed
    }

    enum CodingKeys: String, CodingKey {
        case numTrainingSteps = "num_training_steps", learningRate = "learning_rate"
        case maxGradNorm = "max_grad_norm", dataGenSeed = "data_gen_seed"
        case predictorInitSeed = "predictor_init_seed"
    }
}

/// The original's tuning methods (`tuning_method` values).
public enum TuningMethod: String, Codable, CaseIterable, Sendable {
    case prefixReal = "prefix_real"
    case prefixSimplex = "prefix_simplex"
    case prefixSoft = "prefix_soft"
    case fullParameters = "full_parameters"
    case loraFinetune = "lora_finetune"
    case embedding = "embedding"
    case unembedding = "unembedding"
    case embeddingUnembedding = "embedding_unembedding"
}

/// The original's prefix initialisations (`prefix_init_method` values).
public enum PrefixInitMethod: String, Codable, CaseIterable, Sendable {
    case zeros, simplex
    case oneHot = "one_hot"
}

/// `TuningConfig`: fine-tuning to a target source, with the original's defaults.
public struct TuningConfig: Codable, Equatable, Sendable {
    public var numTuningSteps: Int
    public var learningRate: Double
    public var maxGradNorm: Double
    public var dataGenSeed: Int
    public var prefixInitSeed: Int
    public var tuningMethod: TuningMethod
    public var numTuningRepetitions: Int = 1
    public var prefixLength: Int? = nil
    public var prefixInitMethod: PrefixInitMethod? = .simplex
    public var iterateDatagenSeedOverRepetitions: Bool = true

    public init(numTuningSteps: Int, learningRate: Double, maxGradNorm: Double, dataGenSeed: Int,
                prefixInitSeed: Int, tuningMethod: TuningMethod, numTuningRepetitions: Int = 1,
                prefixLength: Int? = nil, prefixInitMethod: PrefixInitMethod? = .simplex,
                iterateDatagenSeedOverRepetitions: Bool = true) {
        self.numTuningSteps = numTuningSteps
        self.learningRate = learningRate
        self.maxGradNorm = maxGradNorm
        self.dataGenSeed = dataGenSeed
        self.prefixInitSeed = prefixInitSeed
        self.tuningMethod = tuningMethod
        self.numTuningRepetitions = numTuningRepetitions
        self.prefixLength = prefixLength
        self.prefixInitMethod = prefixInitMethod
        self.iterateDatagenSeedOverRepetitions = iterateDatagenSeedOverRepetitions
    }

    enum CodingKeys: String, CodingKey {
        case numTuningSteps = "num_tuning_steps", learningRate = "learning_rate"
        case maxGradNorm = "max_grad_norm", dataGenSeed = "data_gen_seed"
        case prefixInitSeed = "prefix_init_seed", tuningMethod = "tuning_method"
        case numTuningRepetitions = "num_tuning_repetitions", prefixLength = "prefix_length"
        case prefixInitMethod = "prefix_init_method"
        case iterateDatagenSeedOverRepetitions = "iterate_datagen_seed_over_repetitions"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        numTuningSteps = try c.decode(Int.self, forKey: .numTuningSteps)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        maxGradNorm = try c.decode(Double.self, forKey: .maxGradNorm)
        dataGenSeed = try c.decode(Int.self, forKey: .dataGenSeed)
        prefixInitSeed = try c.decode(Int.self, forKey: .prefixInitSeed)
        let method = try c.decode(String.self, forKey: .tuningMethod)
        guard let parsed = TuningMethod(rawValue: method) else {
            throw ThunniniError.invalidConfig("tuning_method",
                "unknown method '\(method)'; expected one of \(TuningMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        tuningMethod = parsed
        numTuningRepetitions = try c.decodeIfPresent(Int.self, forKey: .numTuningRepetitions) ?? 1
        prefixLength = try c.decodeIfPresent(Int.self, forKey: .prefixLength)
        if c.contains(.prefixInitMethod), try c.decodeNil(forKey: .prefixInitMethod) {
            prefixInitMethod = nil
        } else if let raw = try c.decodeIfPresent(String.self, forKey: .prefixInitMethod) {
            guard let m = PrefixInitMethod(rawValue: raw) else {
                throw ThunniniError.invalidConfig("prefix_init_method",
                    "unknown method '\(raw)'; expected one of \(PrefixInitMethod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            prefixInitMethod = m
        } else {
            prefixInitMethod = .simplex
        }
        iterateDatagenSeedOverRepetitions = try c.decodeIfPresent(Bool.self, forKey: .iterateDatagenSeedOverRepetitions) ?? true
    }

    /// Writes every key, with `null` for an absent `prefix_length` or
    /// `prefix_init_method` (as the original's dict has `None`): omitting
    /// `prefix_init_method` would read back as the default `simplex`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(numTuningSteps, forKey: .numTuningSteps)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(maxGradNorm, forKey: .maxGradNorm)
        try c.encode(dataGenSeed, forKey: .dataGenSeed)
        try c.encode(prefixInitSeed, forKey: .prefixInitSeed)
        try c.encode(tuningMethod, forKey: .tuningMethod)
        try c.encode(numTuningRepetitions, forKey: .numTuningRepetitions)
        try c.encode(prefixLength, forKey: .prefixLength)
        try c.encode(prefixInitMethod, forKey: .prefixInitMethod)
        try c.encode(iterateDatagenSeedOverRepetitions, forKey: .iterateDatagenSeedOverRepetitions)
    }
}
