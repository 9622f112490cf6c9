import Foundation

/// Validation of an experiment: every config on its own (their
/// `ValidatableConfig` checks), located by its key path in the experiment
/// file, then what the configs require of each other.
extension ExperimentSpec: ValidatableConfig {
    /// Largest number of hard-prefix candidates (V^K) the exhaustive search
    /// may enumerate: the search's own limit, checked here so that a run
    /// that would exceed it fails before any pretraining or tuning.
    public static let maxHardPrefixCandidates = HardPrefixSearch.candidateLimit

    /// Names no evaluation source may take: they are files next to the
    /// sources' directories under `evaluation/` (compared ignoring case).
    public static let reservedSourceNames: Set<String> = ["index.json"]

    /// Names no tuning config may take: they label baselines (and `HardPT`)
    /// in the same outputs.
    public static let reservedMethodNames: Set<String> = Set(Baseline.allCases.map(\.rawValue) + ["HardPT"])

    /// Throws one `ThunniniError` for the first problem, naming its key path,
    /// e.g. `invalid config field 'tuning_configs[SoftPT].config.learning_rate': must be > 0, got 0`.
    public func validate() throws {
        guard !name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ThunniniError.invalidConfig("name", "must not be empty")
        }
        try validateArchitecture()
        let tokens = predictorConfig.tokenDimensionality
        try validatePretraining(tokens: tokens)
        try validateSource(tuningDataConfig, at: "tuning_data_config", tokens: tokens)
        try validateTuningConfigs()
        try validateHardPrefix(tokens: tokens)
        try validateEvaluation(tokens: tokens)
        try validateBaselines()
    }

    private func validateArchitecture() throws {
        try scoped("predictor_config") { try predictorConfig.validate() }
        try scoped("torso_config") { try torsoConfig.validate() }
        if case .transformer(let transformer) = torsoConfig,
           predictorConfig.embeddingDimensionality % transformer.numAttentionHeads != 0 {
            throw ThunniniError.invalidConfig("torso_config.num_attention_heads",
                "\(transformer.numAttentionHeads) does not divide predictor_config.embedding_dimensionality \(predictorConfig.embeddingDimensionality)")
        }
    }

    private func validatePretraining(tokens: Int) throws {
        if let pretraining {
            try validateSource(pretraining.dataConfig, at: "pretraining.data_config", tokens: tokens)
            let training = pretraining.trainingConfig
            try scoped("pretraining.training_config") { try training.validate() }
            try checkSeed(training.dataGenSeed, "pretraining.training_config.data_gen_seed")
            try checkSeed(training.predictorInitSeed, "pretraining.training_config.predictor_init_seed")
            guard predictorInitSeed == nil else {
                throw ThunniniError.invalidConfig("predictor_init_seed",
                    "is only used without pretraining; set pretraining.training_config.predictor_init_seed instead")
            }
        } else {
            guard let seed = predictorInitSeed else {
                throw ThunniniError.invalidConfig("predictor_init_seed",
                    "is required when pretraining is absent (the untrained predictor is initialised from it)")
            }
            try checkSeed(seed, "predictor_init_seed")
        }
    }

    private func validateTuningConfigs() throws {
        let labels = try checkNames(tuningConfigs.map(\.name), list: "tuning_configs", reserved: Self.reservedMethodNames)
        for (entry, label) in zip(tuningConfigs, labels) {
            let path = "\(label).config"
            let config = entry.config
            try scoped(path) { try config.validate() }
            try checkSeed(config.dataGenSeed, "\(path).data_gen_seed")
            try checkSeed(config.prefixInitSeed, "\(path).prefix_init_seed")
            // Repetition r uses data_gen_seed + r when iterating seeds.
            if config.iterateDatagenSeedOverRepetitions, config.dataGenSeed > Int.max - config.numTuningRepetitions {
                throw ThunniniError.invalidConfig("\(path).data_gen_seed",
                    "\(config.dataGenSeed) + num_tuning_repetitions \(config.numTuningRepetitions) is too large (seeds are iterated over repetitions)")
            }
            let method = config.tuningMethod.rawValue
            switch config.tuningMethod {
            case .prefixReal, .prefixSimplex, .prefixSoft:
                if let length = config.prefixLength, length < 1 {
                    throw ThunniniError.invalidConfig("\(path).prefix_length", "must be >= 1 for tuning_method '\(method)', got \(length)")
                }
            case .fullParameters:
                guard torsoConfig.isTrainable else {
                    throw ThunniniError.invalidConfig("\(path).tuning_method",
                        "'\(method)' needs a trainable torso (torso_config.is_trainable is false)")
                }
            case .loraFinetune:
                guard case .transformer(let transformer) = torsoConfig, transformer.useLoRA else {
                    throw ThunniniError.invalidConfig("\(path).tuning_method",
                        "'\(method)' needs a Transformer torso with use_lora true")
                }
            case .embedding, .unembedding, .embeddingUnembedding:
                break
            }
        }
    }

    private func validateHardPrefix(tokens: Int) throws {
        guard let hardPrefix else { return }
        try ConfigCheck.atLeast(1, hardPrefix.prefixLength, "hard_prefix.prefix_length")
        try ConfigCheck.atLeast(1, hardPrefix.numSequences, "hard_prefix.num_sequences")
        try checkSeed(hardPrefix.dataGenSeed, "hard_prefix.data_gen_seed")
        var candidates = 1
        for _ in 0..<hardPrefix.prefixLength {
            candidates *= tokens
            guard candidates <= Self.maxHardPrefixCandidates else {
                throw ThunniniError.invalidConfig("hard_prefix.prefix_length",
                    "\(tokens)^\(hardPrefix.prefixLength) candidate prefixes exceed the limit of \(Self.maxHardPrefixCandidates) for exhaustive search")
            }
        }
    }

    private func validateEvaluation(tokens: Int) throws {
        guard !evalDataConfigs.isEmpty else {
            throw ThunniniError.invalidConfig("eval_data_configs", "must list at least one evaluation source")
        }
        let labels = try checkNames(evalDataConfigs.map(\.name), list: "eval_data_configs", reserved: Self.reservedSourceNames)
        for (entry, label) in zip(evalDataConfigs, labels) {
            try validateSource(entry.config, at: "\(label).config", tokens: tokens)
        }
        try checkSeed(evalDatagenSeed, "eval_datagen_seed")
        guard evalBatchSize == -1 || evalBatchSize >= 1 else {
            throw ThunniniError.invalidConfig("eval_batch_size", "must be -1 (one batch) or >= 1, got \(evalBatchSize)")
        }
    }

    private func validateBaselines() throws {
        var seen = Set<Baseline>()
        for (index, baseline) in baselines.enumerated() {
            let path = "baselines[\(index)]"
            guard seen.insert(baseline).inserted else {
                throw ThunniniError.invalidConfig(path, "'\(baseline.rawValue)' is listed twice")
            }
            switch baseline {
            case .preBayes, .preBayesPT:
                guard pretraining != nil, torsoConfig.isTrainable else {
                    throw ThunniniError.invalidConfig(path,
                        "'\(baseline.rawValue)' needs a pretrained predictor (pretraining present and torso_config.is_trainable true)")
                }
                if baseline == .preBayesPT, hardPrefix == nil {
                    throw ThunniniError.invalidConfig(path, "'PreBayesPT' needs the hard_prefix section (its search settings)")
                }
            case .randomPF:
                guard tuningConfigs.contains(where: { $0.config.tuningMethod == .prefixReal }) else {
                    throw ThunniniError.invalidConfig(path,
                        "'RandomPF' evaluates the initial prefixes of a 'prefix_real' tuning config, and there is none")
                }
            case .untrained:
                guard let seed = untrainedInitSeed else {
                    throw ThunniniError.invalidConfig("untrained_init_seed", "is required by the 'Untrained' baseline")
                }
                try checkSeed(seed, "untrained_init_seed")
            case .targetBayes, .evalBayes, .groundTruth, .noTuning:
                break
            }
        }
        if untrainedInitSeed != nil, !seen.contains(.untrained) {
            throw ThunniniError.invalidConfig("untrained_init_seed", "is only used by the 'Untrained' baseline, which is not listed")
        }
    }

    // MARK: - Shared checks

    /// A data-generator config at `path`, whose alphabet must be the predictor's.
    private func validateSource(_ config: DataGeneratorConfig, at path: String, tokens: Int) throws {
        try scoped(path) { try config.validate() }
        guard config.vocabSize == tokens else {
            throw ThunniniError.invalidConfig("\(path).vocab_size",
                "is \(config.vocabSize) but predictor_config.token_dimensionality is \(tokens)")
        }
    }

    /// Checks the names of a named list and returns each entry's label for
    /// error paths: `list[name]` (or `list[index]` before names are known good).
    /// Names label outputs and become directory names, so they must be
    /// non-empty, unique, and usable as one path component.
    private func checkNames(_ names: [String], list: String, reserved: Set<String>) throws -> [String] {
        var seen = Set<String>()
        for (index, name) in names.enumerated() {
            let field = "\(list)[\(index)].name"
            if let problem = Self.problemWithName(name) {
                throw ThunniniError.invalidConfig(field, problem)
            }
            guard !reserved.contains(where: { $0.lowercased() == name.lowercased() }) else {
                throw ThunniniError.invalidConfig(field, list == "eval_data_configs"
                    ? "'\(name)' is reserved for an output file (evaluation/\(name))" : "'\(name)' is reserved for a baseline")
            }
            guard seen.insert(name).inserted else {
                throw ThunniniError.invalidConfig(field, "'\(name)' is used twice")
            }
            // On case-insensitive file systems (macOS, Windows) these would be one directory.
            if let other = names[..<index].first(where: { $0.lowercased() == name.lowercased() }) {
                throw ThunniniError.invalidConfig(field, "'\(name)' differs from '\(other)' only in case (one file on case-insensitive file systems)")
            }
        }
        return names.map { "\(list)[\($0)]" }
    }

    /// Why `name` cannot label an output (and name a directory), or nil.
    static func problemWithName(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.count > 100 { return "must be at most 100 characters" }
        // Names become file names `<name>.json`; most file systems allow 255 bytes.
        if name.utf8.count > 250 { return "is \(name.utf8.count) bytes in UTF-8; file names allow at most 250 (plus '.json')" }
        if name.first!.isWhitespace || name.last!.isWhitespace { return "must not start or end with whitespace" }
        if name.hasPrefix(".") { return "must not start with '.'" }
        if name.contains("/") || name.contains("\\") { return "must not contain '/' or '\\'" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "must not contain control characters"
        }
        return nil
    }

    /// Seeds become `RandomKey(seed:)` words and must be non-negative.
    private func checkSeed(_ seed: Int, _ field: String) throws {
        try ConfigCheck.atLeast(0, seed, field)
    }

    /// Runs a config's own validation, locating its error under `path`.
    private func scoped(_ path: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ThunniniError {
            throw error.scoped(path)
        }
    }
}

extension ExperimentSpec {
    /// The label of the evaluation source's Bayes predictor on `source`:
    /// `TargetBayes` when the source is the tuning source (same generator and
    /// parameters; batch size and sequence length ignored), else `EvalBayes`.
    /// The original decides by comparing the notebook's source names.
    public func bayesLabel(for source: NamedDataConfig) -> String {
        func normalised(_ config: DataGeneratorConfig) -> DataGeneratorConfig {
            switch config {
            case .categorical(var c): c.batchSize = 1; c.sequenceLength = 1; return .categorical(c)
            case .mixtureOfCategoricals(var c): c.batchSize = 1; c.sequenceLength = 1; return .mixtureOfCategoricals(c)
            case .dirichletCategorical(var c): c.batchSize = 1; c.sequenceLength = 1; return .dirichletCategorical(c)
            }
        }
        return normalised(source.config) == normalised(tuningDataConfig) ? Baseline.targetBayes.rawValue : Baseline.evalBayes.rawValue
    }
}
