/// Pretraining by log-loss minimisation (the original's `training.train`).
public enum Pretraining {
    /// What a pretraining run returns.
    public struct Result: Sendable {
        /// The trained (or, for an untrainable torso, freshly initialised) parameters.
        public var parameters: ParameterTree
        /// Loss before each step's update.
        public var losses: [Double]
        /// Unclipped global gradient norm of each step.
        public var gradientNorms: [Double]
    }

    /// Trains `predictor` on fresh batches from `data`.
    ///
    /// Parameters are initialised from `predictor_init_seed`; the data key
    /// is `RandomKey(data_gen_seed)` split once (the first half drives the
    /// batches, as in the original), and each step splits it again into the
    /// next data key and the step's batch key. `num_training_steps` steps,
    /// each moving every parameter except LoRA ones (`full_parameters`). A
    /// torso with `is_trainable = false` skips training.
    public static func train(predictor: Predictor, data dataConfig: DataGeneratorConfig, config: TrainingConfig,
                             onStep: ((_ step: Int, _ loss: Double) -> Void)? = nil) throws -> Result {
        try config.validate()
        let generator = try makeDataGenerator(dataConfig)
        try checkVocabulary(generator, predictor)
        var parameters = predictor.initialParameters(seed: config.predictorInitSeed)
        guard predictor.torsoConfig.isTrainable else {
            return Result(parameters: parameters, losses: [], gradientNorms: [])
        }
        var update = try UpdateStep(predictor: predictor, method: .fullParameters,
                                    hyperparameters: .init(learningRate: config.learningRate, maxGradNorm: config.maxGradNorm),
                                    parameters: parameters, prefix: nil)
        var noPrefix: Tensor? = nil
        let curves: (losses: [Double], gradientNorms: [Double])
        do {
            curves = try update.run(steps: config.numTrainingSteps, generator: generator,
                                    dataKey: RandomKey(seed: UInt64(bitPattern: Int64(config.dataGenSeed))).split().0,
                                    parameters: &parameters, prefix: &noPrefix, onStep: onStep)
        } catch let error as ThunniniError {
            throw ThunniniError("pretraining (full_parameters), \(error.message)")
        }
        return Result(parameters: parameters, losses: curves.losses, gradientNorms: curves.gradientNorms)
    }

    /// The generator's vocabulary must be the predictor's token dimension.
    static func checkVocabulary(_ generator: any DataGenerator, _ predictor: Predictor) throws {
        guard generator.vocabSize == predictor.config.tokenDimensionality else {
            throw ThunniniError("data vocab_size \(generator.vocabSize) does not match the predictor's token_dimensionality \(predictor.config.tokenDimensionality)")
        }
    }
}
