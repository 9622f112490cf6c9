/// An experiment file: the whole pipeline of the original's experiment
/// notebook (pretrain, tune with several methods, evaluate on several sources,
/// compare with baselines), with every config in the original's dict form.
///
/// The JSON schema is described field by field in Docs/experiment.md.
/// Named lists (`tuning_configs`, `eval_data_configs`) are JSON arrays of
/// `{"name": ..., "config": {...}}` objects, so their order is the order of
/// the file (the original uses an ordered dict) and every output that lists
/// them is in that order.
///
/// Decoding rejects unknown keys at the experiment's own levels (a misspelt
/// `eval_datgen_seed` must not silently fall back to the default) and names
/// the key path of any error. `validate()` checks each config and what the
/// configs require of each other.
public struct ExperimentSpec: Codable, Equatable, Sendable {
    /// The experiment's name (free text, non-empty), used in reports.
    public var name: String
    /// Free-text notes: where the settings come from, what to look for.
    public var notes: String?
    /// The predictor around the torso (V tokens in, E embedding width).
    public var predictorConfig: PredictorConfig
    /// The torso: Linear, LSTM or Transformer.
    public var torsoConfig: TorsoConfig
    /// Pretraining source and loop; absent means the predictor is used as
    /// initialised from `predictor_init_seed` (an untrained network).
    public var pretraining: PretrainingSpec?
    /// Initialisation seed when `pretraining` is absent (and only then).
    public var predictorInitSeed: Int?
    /// The source every tuning method tunes to.
    public var tuningDataConfig: DataGeneratorConfig
    /// The gradient-based tuning methods, in output order.
    public var tuningConfigs: [NamedTuningConfig]
    /// The exhaustive hard-prefix search (`HardPT`, and the search behind
    /// the `PreBayesPT` baseline).
    public var hardPrefix: HardPrefixSpec?
    /// The evaluation sources, in output order.
    public var evalDataConfigs: [NamedDataConfig]
    /// Seed of the evaluation sequences (one seed for every source, as the
    /// original's `eval_datgen_seed`).
    public var evalDatagenSeed: Int
    /// Sequences per forward pass during evaluation; -1 evaluates all
    /// sequences of a source as one batch.
    public var evalBatchSize: Int
    /// The baselines to compute, in output order.
    public var baselines: [Baseline]
    /// Initialisation seed of the `Untrained` baseline (only with it).
    public var untrainedInitSeed: Int?

    /// The original's default evaluation seed (`run_tuning_experiment`).
    public static let defaultEvalDatagenSeed = 1337
    /// Evaluate each source as one batch (the original's default).
    public static let defaultEvalBatchSize = -1

    public init(name: String, notes: String? = nil, predictorConfig: PredictorConfig, torsoConfig: TorsoConfig,
                pretraining: PretrainingSpec?, predictorInitSeed: Int? = nil,
                tuningDataConfig: DataGeneratorConfig, tuningConfigs: [NamedTuningConfig],
                hardPrefix: HardPrefixSpec? = nil, evalDataConfigs: [NamedDataConfig],
                evalDatagenSeed: Int = ExperimentSpec.defaultEvalDatagenSeed,
                evalBatchSize: Int = ExperimentSpec.defaultEvalBatchSize,
                baselines: [Baseline] = [], untrainedInitSeed: Int? = nil) {
        self.name = name
        self.notes = notes
        self.predictorConfig = predictorConfig
        self.torsoConfig = torsoConfig
        self.pretraining = pretraining
        self.predictorInitSeed = predictorInitSeed
        self.tuningDataConfig = tuningDataConfig
        self.tuningConfigs = tuningConfigs
        self.hardPrefix = hardPrefix
        self.evalDataConfigs = evalDataConfigs
        self.evalDatagenSeed = evalDatagenSeed
        self.evalBatchSize = evalBatchSize
        self.baselines = baselines
        self.untrainedInitSeed = untrainedInitSeed
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, notes
        case predictorConfig = "predictor_config", torsoConfig = "torso_config"
        case pretraining, predictorInitSeed = "predictor_init_seed"
        case tuningDataConfig = "tuning_data_config", tuningConfigs = "tuning_configs"
        case hardPrefix = "hard_prefix", evalDataConfigs = "eval_data_configs"
        case evalDatagenSeed = "eval_datagen_seed", evalBatchSize = "eval_batch_size"
        case baselines, untrainedInitSeed = "untrained_init_seed"
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        notes = try c.decodeIfPresent(String.self, forKey: .notes)
        predictorConfig = try decodeScoped(PredictorConfig.self, c, .predictorConfig)
        torsoConfig = try decodeScoped(TorsoConfig.self, c, .torsoConfig)
        pretraining = try decodeScopedIfPresent(PretrainingSpec.self, c, .pretraining)
        predictorInitSeed = try c.decodeIfPresent(Int.self, forKey: .predictorInitSeed)
        tuningDataConfig = try decodeScoped(DataGeneratorConfig.self, c, .tuningDataConfig)
        tuningConfigs = try decodeScoped([NamedTuningConfig].self, c, .tuningConfigs)
        hardPrefix = try decodeScopedIfPresent(HardPrefixSpec.self, c, .hardPrefix)
        evalDataConfigs = try decodeScoped([NamedDataConfig].self, c, .evalDataConfigs)
        evalDatagenSeed = try c.decodeIfPresent(Int.self, forKey: .evalDatagenSeed) ?? Self.defaultEvalDatagenSeed
        evalBatchSize = try c.decodeIfPresent(Int.self, forKey: .evalBatchSize) ?? Self.defaultEvalBatchSize
        baselines = try c.decodeIfPresent([Baseline].self, forKey: .baselines) ?? []
        untrainedInitSeed = try c.decodeIfPresent(Int.self, forKey: .untrainedInitSeed)
    }
}

/// `pretraining`: the source and loop of the original's `training.train`.
public struct PretrainingSpec: Codable, Equatable, Sendable {
    /// The pretraining source (its batch size is the training batch size).
    public var dataConfig: DataGeneratorConfig
    /// Steps, learning rate, clipping and both seeds.
    public var trainingConfig: TrainingConfig

    public init(dataConfig: DataGeneratorConfig, trainingConfig: TrainingConfig) {
        self.dataConfig = dataConfig
        self.trainingConfig = trainingConfig
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dataConfig = "data_config", trainingConfig = "training_config"
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataConfig = try decodeScoped(DataGeneratorConfig.self, c, .dataConfig)
        trainingConfig = try decodeScoped(TrainingConfig.self, c, .trainingConfig)
    }
}

/// One entry of a named list: `tuning_configs` (a method's name, its label
/// in every output, e.g. `SimplexPT`, and its `TuningConfig`) or
/// `eval_data_configs` (a source's name, e.g. `Random Coins`, and its
/// data-generator config, whose batch size is the number of evaluation
/// sequences).
public struct Named<Config: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    public var name: String
    public var config: Config

    public init(name: String, config: Config) {
        self.name = name
        self.config = config
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, config }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        config = try decodeScoped(Config.self, c, .config)
    }
}

/// An entry of `tuning_configs`.
public typealias NamedTuningConfig = Named<TuningConfig>
/// An entry of `eval_data_configs`.
public typealias NamedDataConfig = Named<DataGeneratorConfig>

/// `hard_prefix`: exhaustive search over every one-hot prefix of length K
/// (V^K candidates), as the experiment notebook's `HardPT`.
///
/// The search sequences come from `tuning_data_config`; the same settings
/// drive the search of the `PreBayesPT` baseline, which runs whenever that
/// baseline is listed, even with `enabled: false`.
public struct HardPrefixSpec: Codable, Equatable, Sendable {
    /// Whether `HardPT` is run and reported.
    public var enabled: Bool
    /// K, the prefix length (the notebook uses its `prefix_length`).
    public var prefixLength: Int
    /// Number of tuning sequences each candidate is scored on (notebook: 2048).
    public var numSequences: Int
    /// Seed of those sequences (notebook: `PRNGKey(5)`).
    public var dataGenSeed: Int

    /// The notebook's `hard_pf_tuning_batch_size`.
    public static let defaultNumSequences = 2048
    /// The notebook's key for the search sequences.
    public static let defaultDataGenSeed = 5

    public init(enabled: Bool = true, prefixLength: Int, numSequences: Int = HardPrefixSpec.defaultNumSequences,
                dataGenSeed: Int = HardPrefixSpec.defaultDataGenSeed) {
        self.enabled = enabled
        self.prefixLength = prefixLength
        self.numSequences = numSequences
        self.dataGenSeed = dataGenSeed
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, prefixLength = "prefix_length", numSequences = "num_sequences", dataGenSeed = "data_gen_seed"
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        prefixLength = try c.decode(Int.self, forKey: .prefixLength)
        numSequences = try c.decodeIfPresent(Int.self, forKey: .numSequences) ?? Self.defaultNumSequences
        dataGenSeed = try c.decodeIfPresent(Int.self, forKey: .dataGenSeed) ?? Self.defaultDataGenSeed
    }
}
