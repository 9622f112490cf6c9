import Foundation

/// Categorical: tokens i.i.d. from fixed `biases`. There is no latent
/// parameter, so the Bayes predictor and the ground truth are both
/// log(biases) at every step.
public struct CategoricalGenerator: DataGenerator {
    public let config: DataGeneratorConfig
    public let vocabSize: Int
    /// The token probabilities (length V, sum 1).
    public let biases: [Double]
    /// log(biases), -inf for a zero bias.
    let logBiases: [Double]

    /// Checks `biases` (length V, a probability vector).
    public init(_ config: CategoricalGeneratorConfig) throws {
        try checkVocabSize(config.vocabSize)
        try checkProbabilityVector(config.biases, count: config.vocabSize, field: "biases")
        self.config = .categorical(config)
        self.vocabSize = config.vocabSize
        self.biases = config.biases
        self.logBiases = config.biases.map { log($0) }
    }

    public func bayesLogPredictive(counts: [Double]) -> [Double] {
        logBiases
    }

    /// sum_v m_v log(biases_v).
    public func logMarginalLikelihood(counts: [Double]) -> Double {
        var value = 0.0
        for v in 0..<vocabSize { value += countTimesLog(counts[v], logBiases[v]) }
        return value
    }

    /// The fixed biases; consumes nothing from `stream`.
    public func sampleTokenDistribution(stream: inout RandomStream) -> [Double] {
        biases
    }

    /// H(biases).
    public func expectedOracleEntropy() -> Double {
        entropy(biases)
    }
}
