import Foundation

/// Mixture of categoricals: per sequence a component c ~ `mixingWeights`,
/// then tokens i.i.d. from `biases[c]`. The Bayes predictor weighs each
/// component by its posterior given the counts seen so far.
public struct MixtureOfCategoricalsGenerator: DataGenerator {
    public let config: DataGeneratorConfig
    public let vocabSize: Int
    /// Prior over components (length C, sum 1).
    public let mixingWeights: [Double]
    /// Per-component token probabilities (C x V, rows sum 1).
    public let biases: [[Double]]
    let logMixingWeights: [Double]
    let logBiases: [[Double]]

    /// Checks `mixing_weights` (non-empty probability vector) and `biases`
    /// (one probability vector of length V per component).
    public init(_ config: MixtureOfCategoricalsGeneratorConfig) throws {
        try checkVocabSize(config.vocabSize)
        let componentCount = config.mixingWeights.count
        guard componentCount >= 1 else {
            throw ThunniniError.invalidConfig("mixing_weights", "needs at least one component")
        }
        try checkProbabilityVector(config.mixingWeights, count: componentCount, field: "mixing_weights")
        guard config.biases.count == componentCount else {
            throw ThunniniError.invalidConfig("biases",
                "needs one row per mixing weight (\(componentCount)), got \(config.biases.count)")
        }
        for (c, row) in config.biases.enumerated() {
            try checkProbabilityVector(row, count: config.vocabSize, field: "biases[\(c)]")
        }
        self.config = .mixtureOfCategoricals(config)
        self.vocabSize = config.vocabSize
        self.mixingWeights = config.mixingWeights
        self.biases = config.biases
        self.logMixingWeights = config.mixingWeights.map { log($0) }
        self.logBiases = config.biases.map { row in row.map { log($0) } }
    }

    /// log w_c + sum_v m_v log biases[c][v] for every component c: the log
    /// joint of component c and one sequence with these counts.
    func logJoint(counts: [Double]) -> [Double] {
        var joint = logMixingWeights
        for c in 0..<joint.count {
            for v in 0..<vocabSize { joint[c] += countTimesLog(counts[v], logBiases[c][v]) }
        }
        return joint
    }

    /// log sum_c posterior_c(counts) * biases[c][v], in log space.
    public func bayesLogPredictive(counts: [Double]) -> [Double] {
        let joint = logJoint(counts: counts)
        let evidence = logSumExp(joint)
        var prediction = [Double](repeating: 0, count: vocabSize)
        var terms = [Double](repeating: 0, count: joint.count)
        for v in 0..<vocabSize {
            for c in 0..<joint.count { terms[c] = joint[c] - evidence + logBiases[c][v] }
            prediction[v] = logSumExp(terms)
        }
        return prediction
    }

    /// log sum_c w_c prod_v biases[c][v]^m_v.
    public func logMarginalLikelihood(counts: [Double]) -> Double {
        logSumExp(logJoint(counts: counts))
    }

    /// biases[c] for c ~ mixing_weights (one categorical draw).
    public func sampleTokenDistribution(stream: inout RandomStream) -> [Double] {
        biases[stream.categorical(probabilities: mixingWeights)]
    }

    /// sum_c w_c H(biases[c]).
    public func expectedOracleEntropy() -> Double {
        var value = 0.0
        for c in 0..<mixingWeights.count { value += mixingWeights[c] * entropy(biases[c]) }
        return value
    }
}
