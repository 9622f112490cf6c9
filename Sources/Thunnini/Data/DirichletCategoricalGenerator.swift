import Foundation

/// Dirichlet-Categorical: per sequence probabilities theta ~ Dirichlet(alphas),
/// then tokens i.i.d. from theta. The Bayes predictor is the posterior mean
/// (m_v + alpha_v) / (n + A), A = sum of alphas (Laplace's rule for (1, 1)).
public struct DirichletCategoricalGenerator: DataGenerator {
    public let config: DataGeneratorConfig
    public let vocabSize: Int
    /// Dirichlet concentration parameters (length V, all > 0).
    public let alphas: [Double]
    /// A = sum of alphas.
    let alphaSum: Double
    /// ln Γ(A) - sum_v ln Γ(alpha_v), the log normaliser of the prior.
    let logPriorNormaliser: Double

    /// Checks `alphas` (length V, finite and > 0).
    public init(_ config: DirichletCategoricalGeneratorConfig) throws {
        try checkVocabSize(config.vocabSize)
        guard config.alphas.count == config.vocabSize else {
            throw ThunniniError.invalidConfig("alphas", "needs \(config.vocabSize) entries, got \(config.alphas.count)")
        }
        for (index, alpha) in config.alphas.enumerated() where !(alpha.isFinite && alpha > 0) {
            throw ThunniniError.invalidConfig("alphas", "entry \(index) is \(alpha); must be finite and > 0")
        }
        self.config = .dirichletCategorical(config)
        self.vocabSize = config.vocabSize
        self.alphas = config.alphas
        self.alphaSum = config.alphas.reduce(0, +)
        self.logPriorNormaliser = SpecialFunctions.lnGamma(alphaSum)
            - config.alphas.reduce(0) { $0 + SpecialFunctions.lnGamma($1) }
    }

    /// log(m_v + alpha_v) - log(n + A).
    public func bayesLogPredictive(counts: [Double]) -> [Double] {
        var total = 0.0
        for v in 0..<vocabSize { total += counts[v] + alphas[v] }
        let logTotal = log(total)
        return (0..<vocabSize).map { v in log(counts[v] + alphas[v]) - logTotal }
    }

    /// ln Γ(A) - ln Γ(n + A) + sum_v [ln Γ(m_v + alpha_v) - ln Γ(alpha_v)]
    /// (the Dirichlet-multinomial evidence of one sequence).
    public func logMarginalLikelihood(counts: [Double]) -> Double {
        var total = 0.0
        var value = logPriorNormaliser
        for v in 0..<vocabSize {
            total += counts[v]
            value += SpecialFunctions.lnGamma(counts[v] + alphas[v])
        }
        return value - SpecialFunctions.lnGamma(total + alphaSum)
    }

    /// theta ~ Dirichlet(alphas).
    public func sampleTokenDistribution(stream: inout RandomStream) -> [Double] {
        stream.dirichlet(alphas: alphas)
    }

    /// E[H(theta)] = ψ(A + 1) - sum_v (alpha_v / A) ψ(alpha_v + 1)
    /// (proof in Docs/exact-regret.md).
    public func expectedOracleEntropy() -> Double {
        var value = SpecialFunctions.digamma(alphaSum + 1)
        for alpha in alphas { value -= alpha / alphaSum * SpecialFunctions.digamma(alpha + 1) }
        return value
    }
}
