/// Validation of the training and tuning configs (see `ValidatableConfig`).

extension TrainingConfig: ValidatableConfig {
    public func validate() throws {
        try ConfigCheck.atLeast(0, numTrainingSteps, "num_training_steps")
        try ConfigCheck.positive(learningRate, "learning_rate")
        try ConfigCheck.positive(maxGradNorm, "max_grad_norm")
    }
}

extension TuningConfig: ValidatableConfig {
    /// The methods that tune a prefix (and so need its length and initialisation).
    static let prefixMethods: Set<TuningMethod> = [.prefixReal, .prefixSimplex, .prefixSoft]

    public func validate() throws { try validate(withInitialPrefix: false) }

    /// `validate()`, except that with an explicit initial prefix a prefix
    /// method needs neither `prefix_length` nor `prefix_init_method` (the
    /// original's `tune` ignores both when it is given a prefix).
    public func validate(withInitialPrefix: Bool) throws {
        try ConfigCheck.atLeast(0, numTuningSteps, "num_tuning_steps")
        // The original runs num_tuning_steps + 1 steps, which must be countable.
        guard numTuningSteps < Int.max else {
            throw ThunniniError.invalidConfig("num_tuning_steps", "must be < \(Int.max), got \(numTuningSteps)")
        }
        try ConfigCheck.positive(learningRate, "learning_rate")
        try ConfigCheck.positive(maxGradNorm, "max_grad_norm")
        try ConfigCheck.atLeast(1, numTuningRepetitions, "num_tuning_repetitions")
        if let prefixLength {
            try ConfigCheck.atLeast(0, prefixLength, "prefix_length")
        }
        if Self.prefixMethods.contains(tuningMethod) && !withInitialPrefix {
            guard prefixLength != nil else {
                throw ThunniniError.invalidConfig("prefix_length", "is required by tuning_method '\(tuningMethod.rawValue)'")
            }
            if let prefixLength, prefixLength < 1 {
                throw ThunniniError.invalidConfig("prefix_length", "must be >= 1 for tuning_method '\(tuningMethod.rawValue)', got \(prefixLength)")
            }
            guard prefixInitMethod != nil else {
                throw ThunniniError.invalidConfig("prefix_init_method", "is required by tuning_method '\(tuningMethod.rawValue)'")
            }
        }
    }
}
