/// Fine-tuning with any of the eight gradient methods (the original's `tuning.tune`).
public enum Tuning {
    /// What a tuning run returns.
    public struct Result: Sendable {
        /// Parameters after tuning (unchanged for prefix methods).
        public var parameters: ParameterTree
        /// The tuned prefix (prefix methods), else nil.
        public var prefix: Tensor?
        /// The prefix tuning started from (prefix methods), else nil.
        public var initialPrefix: Tensor?
        /// Loss before each step's update (`num_tuning_steps + 1` entries).
        public var losses: [Double]
        /// Unclipped global gradient norm of each step.
        public var gradientNorms: [Double]
    }

    /// The original's `generate_prefix`: `zeros`; `simplex`, uniform [0, 1)
    /// entries; `one_hot`, the one-hot of each row's argmax of uniform values
    /// (so each position is a uniformly random token). Keyed by `prefix_init_seed`.
    public static func initialPrefix(length: Int, width: Int, method: PrefixInitMethod, key: RandomKey) -> Tensor {
        switch method {
        case .zeros:
            return Tensor(shape: [length, width])
        case .simplex:
            return Tensor.uniform(shape: [length, width], key: key)
        case .oneHot:
            let uniform = Tensor.uniform(shape: [length, width], key: key)
            var prefix = Tensor(shape: [length, width])
            for k in 0..<length {
                var best = 0
                for v in 1..<width where uniform.storage[k * width + v] > uniform.storage[k * width + best] { best = v }
                prefix.storage[k * width + best] = 1
            }
            return prefix
        }
    }

    /// Tunes `parameters` (weight methods) or a prefix (prefix methods) on
    /// fresh batches from `data`, for `num_tuning_steps + 1` steps (the
    /// original runs one more step than configured).
    ///
    /// The data key is `RandomKey(overrideDataGenSeed ?? data_gen_seed)`; each
    /// step splits it into the next key and the batch key. The initial prefix
    /// is `initialPrefix` if given (then `prefix_length` and
    /// `prefix_init_method` are ignored and may be absent, as in the
    /// original), else drawn with `prefix_init_method` from
    /// `RandomKey(prefix_init_seed)`.
    public static func tune(predictor: Predictor, parameters initialParameters: ParameterTree,
                            data dataConfig: DataGeneratorConfig, config: TuningConfig,
                            initialPrefix given: Tensor? = nil, overrideDataGenSeed: Int? = nil,
                            onStep: ((_ step: Int, _ loss: Double) -> Void)? = nil) throws -> Result {
        try config.validate(withInitialPrefix: given != nil)
        let method = config.tuningMethod
        try method.checkApplicable(to: predictor.torsoConfig)
        try predictor.checkParameters(initialParameters)
        let generator = try makeDataGenerator(dataConfig)
        try Pretraining.checkVocabulary(generator, predictor)

        var prefix: Tensor? = nil
        if given != nil, !method.isPrefixMethod {
            throw ThunniniError("an initial prefix was given, but tuning_method '\(method.rawValue)' tunes weights, not a prefix")
        }
        if let prefixType = method.prefixType {
            let width = predictor.config.prefixWidth(prefixType)
            if let given {
                guard given.rank == 2, given.shape[1] == width, given.shape[0] >= 1 else {
                    throw ThunniniError("initial prefix for '\(method.rawValue)' must be K x \(width), got \(given.shape)")
                }
                prefix = given
            } else {
                // validate() guarantees both for prefix methods.
                prefix = initialPrefix(length: config.prefixLength!, width: width, method: config.prefixInitMethod!,
                                       key: RandomKey(seed: UInt64(bitPattern: Int64(config.prefixInitSeed))))
            }
        }
        let startPrefix = prefix
        var parameters = initialParameters
        var update = try UpdateStep(predictor: predictor, method: method,
                                    hyperparameters: .init(learningRate: config.learningRate, maxGradNorm: config.maxGradNorm),
                                    parameters: parameters, prefix: prefix)
        let curves: (losses: [Double], gradientNorms: [Double])
        do {
            curves = try update.run(steps: config.numTuningSteps + 1, generator: generator,
                                    dataKey: RandomKey(seed: UInt64(bitPattern: Int64(overrideDataGenSeed ?? config.dataGenSeed))),
                                    parameters: &parameters, prefix: &prefix, onStep: onStep)
        } catch let error as ThunniniError {
            throw ThunniniError("tuning (\(method.rawValue)), \(error.message)")
        }
        return Result(parameters: parameters, prefix: prefix, initialPrefix: startPrefix, losses: curves.losses, gradientNorms: curves.gradientNorms)
    }
}
