/// Validation of the data-generator configs (see `ValidatableConfig`).

extension DataGeneratorConfig: ValidatableConfig {
    public func validate() throws {
        switch self {
        case .categorical(let config): try config.validate()
        case .mixtureOfCategoricals(let config): try config.validate()
        case .dirichletCategorical(let config): try config.validate()
        }
    }
}

/// The fields every generator has: a batch of `batch_size` sequences of
/// `sequence_length` tokens from a vocabulary of `vocab_size >= 2` symbols.
private func validateSharedGeneratorFields(batchSize: Int, sequenceLength: Int, vocabSize: Int) throws {
    try ConfigCheck.atLeast(1, batchSize, "batch_size")
    try ConfigCheck.atLeast(1, sequenceLength, "sequence_length")
    try ConfigCheck.atLeast(2, vocabSize, "vocab_size")
}

extension CategoricalGeneratorConfig: ValidatableConfig {
    public func validate() throws {
        try ConfigCheck.typeName(generatorType, "generator_type", expected: "Categorical")
        try validateSharedGeneratorFields(batchSize: batchSize, sequenceLength: sequenceLength, vocabSize: vocabSize)
        try ConfigCheck.count(biases.count, "biases", equals: vocabSize, "vocab_size")
        try ConfigCheck.distribution(biases, "biases")
    }
}

extension MixtureOfCategoricalsGeneratorConfig: ValidatableConfig {
    public func validate() throws {
        try ConfigCheck.typeName(generatorType, "generator_type", expected: "Mixture-of-Categoricals")
        try validateSharedGeneratorFields(batchSize: batchSize, sequenceLength: sequenceLength, vocabSize: vocabSize)
        try ConfigCheck.distribution(mixingWeights, "mixing_weights")
        guard biases.count == mixingWeights.count else {
            throw ThunniniError.invalidConfig("biases",
                "has \(biases.count) rows but mixing_weights has \(mixingWeights.count) entries (one row per component)")
        }
        for (component, row) in biases.enumerated() {
            try ConfigCheck.count(row.count, "biases[\(component)]", equals: vocabSize, "vocab_size")
            try ConfigCheck.distribution(row, "biases[\(component)]")
        }
    }
}

extension DirichletCategoricalGeneratorConfig: ValidatableConfig {
    public func validate() throws {
        try ConfigCheck.typeName(generatorType, "generator_type", expected: "Dirichlet-Categorical")
        try validateSharedGeneratorFields(batchSize: batchSize, sequenceLength: sequenceLength, vocabSize: vocabSize)
        try ConfigCheck.count(alphas.count, "alphas", equals: vocabSize, "vocab_size")
        for (index, alpha) in alphas.enumerated() {
            try ConfigCheck.positive(alpha, "alphas[\(index)]")
        }
    }
}
