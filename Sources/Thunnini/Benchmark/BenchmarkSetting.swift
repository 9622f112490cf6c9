extension Benchmark {
    /// What a benchmark runs: a predictor, and for each phase it times that
    /// phase's data and hyperparameters. The original's demo notebook by
    /// default (`demoSetting(torso:)`), or the settings of an experiment file
    /// (`experimentSetting(_:)`). A phase the setting has no data for (an
    /// experiment without pretraining, say) is not timed.
    public struct Setting: Sendable {
        /// Embedding and token sizes.
        public var predictor: PredictorConfig
        /// The torso.
        public var torso: TorsoConfig
        /// `pretrain`: a `full_parameters` step.
        public var pretraining: Update?
        /// `tune_prefix`: a step of a prefix method.
        public var prefixTuning: Update?
        /// `tune_weights`: a step of a weight method.
        public var weightTuning: Update?
        /// `evaluate`: a forward pass over every sequence of `data`, in
        /// forward passes of at most `batchSize` sequences (`Evaluation.evaluate`).
        public var evaluation: (data: DataGeneratorConfig, batchSize: Int?)?

        /// One update step: the method, its source (whose batch size and
        /// length are one step's batch) and its optimizer settings.
        public struct Update: Sendable {
            public var method: TuningMethod
            public var data: DataGeneratorConfig
            public var learningRate: Double
            public var maxGradNorm: Double
            /// K, for prefix methods (0 for weight methods).
            public var prefixLength: Int
            /// How the prefix starts, for prefix methods.
            public var prefixInit: PrefixInitMethod

            public init(method: TuningMethod, data: DataGeneratorConfig, learningRate: Double, maxGradNorm: Double,
                        prefixLength: Int = 0, prefixInit: PrefixInitMethod = .oneHot) {
                self.method = method
                self.data = data
                self.learningRate = learningRate
                self.maxGradNorm = maxGradNorm
                self.prefixLength = prefixLength
                self.prefixInit = prefixInit
            }
        }

        /// The update step `phase` times (nil for `evaluate`, or when the setting has none).
        public func update(for phase: Phase) -> Update? {
            switch phase {
            case .pretrain: pretraining
            case .tunePrefix: prefixTuning
            case .tuneWeights: weightTuning
            case .evaluate: nil
            }
        }

        /// The phases this setting can time, in `Phase` order.
        public var phases: [Phase] {
            Phase.allCases.filter { $0 == .evaluate ? evaluation != nil : update(for: $0) != nil }
        }
    }

    /// The torso names `bench --torso` accepts.
    public static let torsoNames = ["LSTM", "Transformer", "Linear"]

    /// The demo notebook's setting for a torso: embedding 16, hidden sizes
    /// [64, 32], every phase on batches of 128 x 50 of Random Coins
    /// (Dirichlet(1, 1) coins), learning rate 5e-3, clipping at global norm
    /// 1; `tune_prefix` tunes a soft prefix (`prefix_soft`, K = 6, one-hot
    /// start) and `tune_weights` the embedding (`embedding`). The
    /// transformer has 4 heads, q/k normalisation and LoRA of rank 4.
    public static func demoSetting(torso name: String) throws -> Setting {
        let torso: TorsoConfig
        switch name {
        case "LSTM": torso = .lstm(LSTMTorsoConfig(isTrainable: true, hiddenSizes: [64, 32]))
        case "Linear": torso = .linear(LinearTorsoConfig(isTrainable: true, hiddenSizes: [64, 32]))
        case "Transformer":
            torso = .transformer(TransformerTorsoConfig(isTrainable: true, hiddenSizes: [64, 32], numAttentionHeads: 4,
                                                        normalizeQK: true, useLoRA: true, reducedRank: 4))
        default:
            throw ThunniniError("unknown torso '\(name)' for bench; expected one of \(torsoNames.joined(separator: ", ")) or all")
        }
        let coins = DataGeneratorConfig.dirichletCategorical(.init(batchSize: 128, sequenceLength: 50, vocabSize: 2, alphas: [1, 1]))
        func update(_ method: TuningMethod, prefixLength: Int = 0) -> Setting.Update {
            Setting.Update(method: method, data: coins, learningRate: 5e-3, maxGradNorm: 1, prefixLength: prefixLength)
        }
        return Setting(predictor: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 16), torso: torso,
                       pretraining: update(.fullParameters), prefixTuning: update(.prefixSoft, prefixLength: 6),
                       weightTuning: update(.embedding), evaluation: (coins, nil))
    }

    /// The setting of an experiment file (already validated by
    /// `ExperimentSpec.load`): `pretrain` on its pretraining source with its
    /// training config's learning rate and clipping (none without
    /// `pretraining`); `tune_prefix` with the first prefix method of
    /// `tuning_configs` and `tune_weights` with the first weight method, on
    /// the tuning source, with their own hyperparameters (none when the file
    /// lists no such method); `evaluate` on the first evaluation source, in
    /// forward passes of `eval_batch_size` sequences. With `tuningName`,
    /// the tuning config of that name times its kind's phase instead of the
    /// first of its kind (nil: no config has that name).
    public static func experimentSetting(_ spec: ExperimentSpec, tuningName: String) -> Setting? {
        guard let named = spec.tuningConfigs.first(where: { $0.name == tuningName }) else { return nil }
        var setting = experimentSetting(spec)
        let chosen = tuningUpdate(spec, named)
        if named.config.tuningMethod.isPrefixMethod { setting.prefixTuning = chosen } else { setting.weightTuning = chosen }
        return setting
    }

    /// The update step of one tuning config of `spec`.
    static func tuningUpdate(_ spec: ExperimentSpec, _ named: NamedTuningConfig) -> Setting.Update {
        let config = named.config
        let isPrefix = config.tuningMethod.isPrefixMethod
        // validate() guarantees a length and an init method for prefix methods.
        return Setting.Update(method: config.tuningMethod, data: spec.tuningDataConfig, learningRate: config.learningRate,
                              maxGradNorm: config.maxGradNorm, prefixLength: isPrefix ? config.prefixLength ?? 0 : 0,
                              prefixInit: config.prefixInitMethod ?? .simplex)
    }

    /// The setting of an experiment file, the first tuning config of each kind.
    public static func experimentSetting(_ spec: ExperimentSpec) -> Setting {
        func update(_ named: NamedTuningConfig?) -> Setting.Update? { named.map { tuningUpdate(spec, $0) } }
        let pretraining = spec.pretraining.map {
            Setting.Update(method: .fullParameters, data: $0.dataConfig, learningRate: $0.trainingConfig.learningRate,
                           maxGradNorm: $0.trainingConfig.maxGradNorm)
        }
        return Setting(predictor: spec.predictorConfig, torso: spec.torsoConfig, pretraining: pretraining,
                       prefixTuning: update(spec.tuningConfigs.first { $0.config.tuningMethod.isPrefixMethod }),
                       weightTuning: update(spec.tuningConfigs.first { !$0.config.tuningMethod.isPrefixMethod }),
                       evaluation: spec.evalDataConfigs.first.map { ($0.config, spec.evalBatchSize) })
    }
}
