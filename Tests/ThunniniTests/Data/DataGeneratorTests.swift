import Foundation
@testable import Thunnini
import Testing

@Suite("Data generators")
struct DataGeneratorTests {
    /// Chain rule against an independent oracle: sum_t log q(x_t | x_<t)
    /// from `solve` equals log P(x) computed by `BruteForceOracle` straight
    /// from the config (product over time for Categorical, sum over components
    /// of per-component products for the mixture, Polya urn for Dirichlet),
    /// for every binary sequence of length 0...12 and every ternary one of
    /// length 0...7; and so does the closed-form `logMarginalLikelihood`.
    /// (Comparing the chain sum with `logMarginalLikelihood` alone would be
    /// circular for the mixture, whose predictive is a difference of the same
    /// log joint, so the sum telescopes whatever that joint is.)
    @Test(arguments: allGeneratorCases)
    func solveLogProbsSumToClosedFormLogMarginal(_ generatorCase: GeneratorCase) throws {
        for (vocabSize, maxLength) in [(2, 12), (3, 7)] {
            let generator = try generatorCase.generator(vocabSize: vocabSize)
            let oracle = BruteForceOracle(generatorCase.make(vocabSize))
            for length in 0...maxLength {
                let (tokens, oneHot) = allSequences(length: length, vocabSize: vocabSize)
                let logProbs = generator.solve(sequences: oneHot).logProbs
                for (b, sequence) in tokens.enumerated() {
                    var chainSum = 0.0
                    var counts = [Int](repeating: 0, count: vocabSize)
                    for (t, token) in sequence.enumerated() {
                        chainSum += logProbs[b, t, token]
                        counts[token] += 1
                    }
                    let independent = log(oracle.probability(sequence))
                    let closedForm = generator.logMarginalLikelihood(counts: counts)
                    #expect(abs(chainSum - independent) <= 1e-12 * max(1, abs(independent)),
                            "V=\(vocabSize) sequence \(sequence): chain \(chainSum) vs oracle \(independent)")
                    #expect(abs(closedForm - independent) <= 1e-12 * max(1, abs(independent)),
                            "V=\(vocabSize) sequence \(sequence): closed form \(closedForm) vs oracle \(independent)")
                }
            }
        }
    }

    /// The marginal is a distribution: summed over all count vectors of n
    /// tokens, multinomial(n; m) P(one sequence with counts m) is 1.
    @Test(arguments: allGeneratorCases)
    func marginalOverCountVectorsSumsToOne(_ generatorCase: GeneratorCase) throws {
        for vocabSize in [2, 3, 5] {
            let generator = try generatorCase.generator(vocabSize: vocabSize)
            for n in 0...10 {
                var total = 0.0
                CountVectors.forEach(total: n, parts: vocabSize) { counts in
                    total += exp(SpecialFunctions.lnMultinomial(counts)
                                 + generator.logMarginalLikelihood(counts: counts))
                }
                #expect(abs(total - 1) <= 1e-12, "V=\(vocabSize) n=\(n): total \(total)")
            }
        }
    }

    /// The Bayes predictive is a probability vector for any counts.
    @Test(arguments: allGeneratorCases)
    func bayesPredictiveIsNormalised(_ generatorCase: GeneratorCase) throws {
        for vocabSize in [2, 3, 7] {
            let generator = try generatorCase.generator(vocabSize: vocabSize)
            for n in 0...6 {
                CountVectors.forEach(total: n, parts: vocabSize) { counts in
                    let prediction = generator.bayesLogPredictive(counts: counts)
                    #expect(prediction.count == vocabSize)
                    let mass = prediction.reduce(0) { $0 + exp($1) }
                    #expect(abs(mass - 1) <= 1e-13, "counts \(counts): mass \(mass)")
                }
            }
        }
    }

    /// `solve` shapes, first prediction = prior predictive, and instant loss
    /// = minus the log-probability of the token that occurred.
    @Test(arguments: allGeneratorCases)
    func solveShapesAndLosses(_ generatorCase: GeneratorCase) throws {
        let vocabSize = 4
        let generator = try generatorCase.generator(vocabSize: vocabSize)
        let (tokens, oneHot) = allSequences(length: 3, vocabSize: vocabSize)
        let (logProbs, losses) = generator.solve(sequences: oneHot)
        #expect(logProbs.shape == [tokens.count, 3, vocabSize])
        #expect(losses.shape == [tokens.count, 3])
        let prior = generator.bayesLogPredictive(counts: [Int](repeating: 0, count: vocabSize))
        for (b, sequence) in tokens.enumerated() {
            for token in 0..<vocabSize { #expect(logProbs[b, 0, token] == prior[token]) }
            for (t, token) in sequence.enumerated() {
                #expect(abs(losses[b, t] + logProbs[b, t, token]) <= 1e-14)
            }
        }
    }

    /// `generate` draws sequence b from its own stream,
    /// `RandomStream(key.split(into: B)[b])`: first the latent distribution
    /// theta (Categorical: the biases, nothing drawn; mixture: the biases of
    /// one categorical draw of a component; Dirichlet: one Dirichlet draw),
    /// then one categorical draw per token; the ground truth is log(theta) at
    /// every step. Rebuilt here from the samplers (Docs/data-generators.md), for 40
    /// sequences so the generator's parallel chunks are crossed. Fails for
    /// sequences drawn from one shared key or stream, keys taken from the
    /// other end of the split, or theta redrawn per token.
    @Test(arguments: allGeneratorCases)
    func generateDrawsEachSequenceFromItsOwnKey(_ generatorCase: GeneratorCase) throws {
        let config = generatorCase.make(3)
        let generator = try makeDataGenerator(config)
        let key = RandomKey(seed: 77)
        let (batch, length) = (40, 9)
        let (sequences, groundTruth) = generator.generate(key: key, batchSize: batch, sequenceLength: length)
        let keys = key.split(into: batch)
        var distinct = Set<[Double]>()
        for b in 0..<batch {
            var stream = RandomStream(key: keys[b])
            let theta: [Double]
            switch config {
            case .categorical(let c): theta = c.biases
            case .mixtureOfCategoricals(let c): theta = c.biases[stream.categorical(probabilities: c.mixingWeights)]
            case .dirichletCategorical(let c): theta = stream.dirichlet(alphas: c.alphas)
            }
            var row: [Double] = []
            for t in 0..<length {
                let token = stream.categorical(probabilities: theta)
                for v in 0..<3 {
                    #expect(sequences[b, t, v] == (v == token ? 1 : 0), "\(generatorCase.name) sequence \(b) step \(t)")
                    #expect(groundTruth[b, t, v] == log(theta[v]))
                    row.append(sequences[b, t, v])
                }
            }
            distinct.insert(row)
        }
        #expect(distinct.count > batch / 2, "the sequences are not copies of each other")
    }

    /// The config round-trips: the generator keeps the config it was made
    /// from and reports its vocab size.
    @Test(arguments: allGeneratorCases)
    func generatorKeepsItsConfig(_ generatorCase: GeneratorCase) throws {
        let config = generatorCase.make(5)
        let generator = try makeDataGenerator(config)
        #expect(generator.config == config)
        #expect(generator.vocabSize == 5)
    }

    /// The specific formulas of semantics.md, on a small hand-checkable case.
    @Test func bayesPredictorsMatchTheirTextbookFormulas() throws {
        let dirichlet = try DirichletCategoricalGenerator(DirichletCategoricalGeneratorConfig(
            batchSize: 1, sequenceLength: 1, vocabSize: 3, alphas: [0.5, 1, 2]))
        // (m_v + alpha_v) / (n + A) with m = (2, 0, 1): (2.5, 1, 3) / 6.5.
        let dirichletPrediction = dirichlet.bayesLogPredictive(counts: [2, 0, 1])
        for (v, expected) in [2.5 / 6.5, 1 / 6.5, 3 / 6.5].enumerated() {
            #expect(abs(dirichletPrediction[v] - log(expected)) <= 1e-15)
        }
        let mixture = try MixtureOfCategoricalsGenerator(MixtureOfCategoricalsGeneratorConfig(
            batchSize: 1, sequenceLength: 1, vocabSize: 2, mixingWeights: [0.25, 0.75],
            biases: [[0.2, 0.8], [0.8, 0.2]]))
        // After counts (1, 2): posterior odds 0.25 * 0.2 * 0.8^2 : 0.75 * 0.8 * 0.2^2.
        let joint = [0.25 * 0.2 * 0.8 * 0.8, 0.75 * 0.8 * 0.2 * 0.2]
        let posterior = joint.map { $0 / joint.reduce(0, +) }
        let mixturePrediction = mixture.bayesLogPredictive(counts: [1, 2])
        #expect(abs(mixturePrediction[0] - log(posterior[0] * 0.2 + posterior[1] * 0.8)) <= 1e-15)
        #expect(abs(mixture.logMarginalLikelihood(counts: [1, 2]) - log(joint.reduce(0, +))) <= 1e-15)
    }

    /// A zero bias: never-seen tokens contribute 0 (not NaN), an observed
    /// impossible token has log-probability -inf and infinite loss.
    @Test func zeroProbabilityTokens() throws {
        let mixture = try MixtureOfCategoricalsGenerator(MixtureOfCategoricalsGeneratorConfig(
            batchSize: 1, sequenceLength: 1, vocabSize: 3, mixingWeights: [0.5, 0.5],
            biases: [[0.5, 0.5, 0], [0, 0.5, 0.5]]))
        let afterFirstToken = mixture.bayesLogPredictive(counts: [1, 0, 0])
        #expect(abs(afterFirstToken[0] - log(0.5)) <= 1e-15)
        #expect(afterFirstToken[2] == -.infinity)
        #expect(abs(mixture.logMarginalLikelihood(counts: [1, 1, 0]) - log(0.5 * 0.25)) <= 1e-15)
        #expect(mixture.logMarginalLikelihood(counts: [1, 0, 1]) == -.infinity)
        var sequence = Tensor(shape: [1, 2, 3])
        sequence[0, 0, 0] = 1
        sequence[0, 1, 2] = 1
        let losses = mixture.solve(sequences: sequence).instantLosses
        #expect(abs(losses[0, 0] - log(4)) <= 1e-15)  // prior predictive 0.5 * 0.5
        #expect(losses[0, 1] == .infinity)
    }

    /// E[H(theta)] of Dirichlet(a, b) by the digamma formula equals a direct
    /// numerical integral of the binary entropy against the Beta density,
    /// and is exactly 1/2 for Dirichlet(1, 1).
    @Test func dirichletExpectedEntropyMatchesNumericalIntegral() throws {
        for (a, b) in [(1.0, 1.0), (2.0, 3.0), (4.5, 1.5), (3.0, 7.0)] {
            let generator = try DirichletCategoricalGenerator(DirichletCategoricalGeneratorConfig(
                batchSize: 1, sequenceLength: 1, vocabSize: 2, alphas: [a, b]))
            // Composite Simpson on [0, 1]; the integrand is smooth for a, b >= 1.
            let intervals = 20_000
            let logBeta = lgamma(a) + lgamma(b) - lgamma(a + b)
            func integrand(_ x: Double) -> Double {
                if x <= 0 || x >= 1 { return 0 }
                let density = exp((a - 1) * log(x) + (b - 1) * log(1 - x) - logBeta)
                return density * (-x * log(x) - (1 - x) * log(1 - x))
            }
            var sum = integrand(0) + integrand(1)
            for i in 1..<intervals {
                sum += (i % 2 == 1 ? 4 : 2) * integrand(Double(i) / Double(intervals))
            }
            let integral = sum / Double(3 * intervals)
            #expect(abs(generator.expectedOracleEntropy() - integral) <= 1e-9,
                    "Dirichlet(\(a), \(b)): \(generator.expectedOracleEntropy()) vs \(integral)")
        }
        let uniform = try DirichletCategoricalGenerator(DirichletCategoricalGeneratorConfig(
            batchSize: 1, sequenceLength: 1, vocabSize: 2, alphas: [1, 1]))
        #expect(abs(uniform.expectedOracleEntropy() - 0.5) <= 1e-15)
    }
}
