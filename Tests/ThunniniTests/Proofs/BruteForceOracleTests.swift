import Foundation
@testable import Thunnini
import Testing

/// The production generators' exact quantities against `BruteForceOracle`,
/// which computes them from whole-sequence probabilities over all V^T
/// sequences and shares no code with the production path (only the configs).
///
/// What each comparison catches: a wrong closed form for the evidence
/// (`logMarginalLikelihood`), a wrong Bayes posterior (`bayesLogPredictive`,
/// checked through `solve`, the path the experiment uses), a wrong weighting
/// of count vectors or a wrong oracle entropy in `ExactRegret`, and a mix-up
/// of token indices (the cases are asymmetric).
@Suite("Proofs: brute-force oracles")
struct BruteForceOracleTests {
    /// Relative tolerance of every comparison.
    static let tolerance = 1e-12

    /// (V, longest length T): V^T sequences at the longest length.
    static let sizes = [(2, 12), (3, 9), (4, 7)]

    /// Every generator case of the data tests, plus the two textbook Bayes
    /// predictors (KT and Laplace) that the experiments use as baselines.
    static let cases: [GeneratorCase] = allGeneratorCases + [
        GeneratorCase(name: "KT Dirichlet(1/2)") { v in
            .dirichletCategorical(DirichletCategoricalGeneratorConfig(
                batchSize: 1, sequenceLength: 1, vocabSize: v, alphas: [Double](repeating: 0.5, count: v)))
        },
        GeneratorCase(name: "Laplace Dirichlet(1)") { v in
            .dirichletCategorical(DirichletCategoricalGeneratorConfig(
                batchSize: 1, sequenceLength: 1, vocabSize: v, alphas: [Double](repeating: 1, count: v)))
        },
    ]

    static let pairs: [(GeneratorCase, GeneratorCase)] = cases.flatMap { s in cases.map { (s, $0) } }

    /// |actual - expected| <= tolerance * |expected|.
    static func close(_ actual: Double, _ expected: Double, tolerance: Double = tolerance) -> Bool {
        abs(actual - expected) <= tolerance * abs(expected)
    }

    /// The oracle itself is a distribution: its probabilities of all V^T
    /// sequences sum to 1 (so an oracle typo cannot agree by accident with
    /// a production typo of the same kind and still look normalised).
    @Test(arguments: cases)
    func oracleIsNormalised(_ generatorCase: GeneratorCase) {
        for (vocabSize, length) in Self.sizes {
            let oracle = BruteForceOracle(generatorCase.make(vocabSize))
            var total = 0.0
            BruteForceOracle.forEachSequence(length: length, vocabSize: vocabSize) { total += oracle.probability($0) }
            // Naive summation of up to 3^9 terms: rounding up to ~1e-13.
            #expect(abs(total - 1) <= 1e-12, "V=\(vocabSize): total \(total)")
        }
    }

    /// Marginal probability, log evidence and Bayes predictive of every
    /// sequence of every length up to T, V = 2, 3, 4.
    @Test(arguments: cases)
    func evidenceAndPredictiveMatchBruteForce(_ generatorCase: GeneratorCase) throws {
        for (vocabSize, maxLength) in Self.sizes {
            let config = generatorCase.make(vocabSize)
            let oracle = BruteForceOracle(config)
            let generator = try makeDataGenerator(config)
            var worstEvidence = 0.0, worstPredictive = 0.0
            for length in 1...maxLength {
                let (tokens, oneHot) = allSequences(length: length, vocabSize: vocabSize)
                let logProbs = generator.solve(sequences: oneHot).logProbs
                for (b, sequence) in tokens.enumerated() {
                    var counts = [Int](repeating: 0, count: vocabSize)
                    for token in sequence { counts[token] += 1 }
                    let expected = oracle.probability(sequence)
                    let logEvidence = generator.logMarginalLikelihood(counts: counts)
                    worstEvidence = max(worstEvidence, abs(exp(logEvidence) - expected) / expected,
                                        abs(logEvidence - log(expected)) / abs(log(expected)))
                    #expect(Self.close(exp(logEvidence), expected) && Self.close(logEvidence, log(expected)),
                            "V=\(vocabSize) \(sequence): evidence \(exp(logEvidence)) vs brute force \(expected)")
                    // Prediction t of `solve` sees sequence[0..<t].
                    for t in 0..<length {
                        let bruteForce = oracle.predictive(Array(sequence[0..<t]))
                        for v in 0..<vocabSize {
                            let produced = exp(logProbs[b, t, v])
                            worstPredictive = max(worstPredictive, abs(produced - bruteForce[v]) / bruteForce[v])
                            #expect(Self.close(produced, bruteForce[v]),
                                    "V=\(vocabSize) \(sequence) t=\(t) v=\(v): solve \(produced) vs brute force \(bruteForce[v])")
                        }
                    }
                }
            }
            print("brute force \(generatorCase.name) V=\(vocabSize) T<=\(maxLength): worst relative error evidence \(worstEvidence), predictive \(worstPredictive)")
        }
    }

    /// Exact expected instant loss, instant and cumulative regret of every
    /// Bayes predictor on data from every generator. Tolerances: 1e-12
    /// relative for the expected loss and the cumulative regret; for the
    /// instant regret 1e-12 relative to the expected loss it is the
    /// difference of (it can be 1e-2 of it, and both sides carry rounding of
    /// the loss's size); a regret that is 0 in exact arithmetic, 1e-13 absolute.
    @Test(arguments: pairs)
    func exactRegretMatchesBruteForce(_ sourceCase: GeneratorCase, _ predictorCase: GeneratorCase) throws {
        for (vocabSize, length) in Self.sizes {
            let sourceConfig = sourceCase.make(vocabSize), predictorConfig = predictorCase.make(vocabSize)
            let source = BruteForceOracle(sourceConfig), predictor = BruteForceOracle(predictorConfig)
            let losses = source.expectedInstantLosses(of: predictor, length: length)
            let exact = try ExactRegret.compute(source: makeDataGenerator(sourceConfig),
                                                predictor: makeDataGenerator(predictorConfig), length: length)
            #expect(Self.close(exact.oracleInstantLoss, source.expectedOracleEntropy),
                    "oracle entropy \(exact.oracleInstantLoss) vs \(source.expectedOracleEntropy)")
            // A categorical source under its own Bayes predictor has zero regret
            // in exact arithmetic; there the check is absolute.
            let zeroRegret = sourceConfig == predictorConfig && sourceCase.name == "Categorical"
            var cumulative = 0.0, worst = 0.0
            for n in 0..<length {
                let instant = losses[n] - source.expectedOracleEntropy
                cumulative += instant
                #expect(Self.close(exact.expectedInstantLoss[n], losses[n]),
                        "V=\(vocabSize) n=\(n): expected loss \(exact.expectedInstantLoss[n]) vs brute force \(losses[n])")
                // The instant regret is a difference of two numbers of the size
                // of the loss; its tolerance is relative to that loss.
                #expect(abs(exact.instantRegret[n] - instant) <= Self.tolerance * losses[n],
                        "V=\(vocabSize) n=\(n): instant regret \(exact.instantRegret[n]) vs brute force \(instant)")
                if zeroRegret {
                    #expect(abs(exact.cumulativeRegret[n]) <= 1e-13 && abs(cumulative) <= 1e-13)
                } else {
                    #expect(Self.close(exact.cumulativeRegret[n], cumulative),
                            "V=\(vocabSize) n=\(n): cumulative regret \(exact.cumulativeRegret[n]) vs brute force \(cumulative)")
                    worst = max(worst, abs(exact.cumulativeRegret[n] - cumulative) / abs(cumulative))
                }
            }
            print("brute force regret \(sourceCase.name) / \(predictorCase.name) V=\(vocabSize) T=\(length): "
                  + "R_T \(cumulative), worst relative error of cumulative regret \(worst)")
        }
    }

    /// The comparisons discriminate: a Dirichlet predictor whose alphas are
    /// off by one part in a million already fails the 1e-12 tolerance by
    /// several orders of magnitude.
    @Test func comparisonDetectsAMillionthPerturbation() throws {
        let config = DataGeneratorConfig.dirichletCategorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: 3, alphas: [0.5, 1.2, 1.9]))
        let perturbed = DataGeneratorConfig.dirichletCategorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: 3,
                                                                       alphas: [0.5, 1.2 * (1 + 1e-6), 1.9]))
        let oracle = BruteForceOracle(config)
        let production = try makeDataGenerator(perturbed)
        let sequence = [1, 1, 0, 2, 1]
        let difference = abs(exp(production.logMarginalLikelihood(counts: [1, 3, 1])) - oracle.probability(sequence)) / oracle.probability(sequence)
        #expect(difference > 1e-8, "relative difference \(difference)")
    }

    /// Laplace's rule (Dirichlet(1, ..., 1)) and the Krichevsky-Trofimov
    /// estimator (Dirichlet(1/2, 1/2)) in their textbook closed forms:
    /// Laplace q(1 | k of n) = (k + 1) / (n + 2), P(x) = k! (n - k)! / (n + 1)!,
    /// and for V = 3, P(x) = 2 a! b! c! / (n + 2)!; KT q(1 | k of n) =
    /// (k + 1/2) / (n + 1), P(x) = (2k - 1)!! (2(n - k) - 1)!! / (2^n n!).
    @Test func laplaceAndKrichevskyTrofimovClosedForms() throws {
        func factorial(_ n: Int) -> Double { n <= 1 ? 1 : (2...n).reduce(1.0) { $0 * Double($1) } }
        func doubleFactorialOfOdd(_ k: Int) -> Double {  // (2k - 1)!!
            k <= 0 ? 1 : (1...k).reduce(1.0) { $0 * Double(2 * $1 - 1) }
        }
        let laplace = try dirichlet([1, 1]), kt = try dirichlet([0.5, 0.5]), laplace3 = try dirichlet([1, 1, 1])
        for n in 0...40 {
            for k in 0...n {
                let counts = [n - k, k]
                #expect(Self.close(exp(laplace.bayesLogPredictive(counts: counts)[1]), Double(k + 1) / Double(n + 2)))
                #expect(Self.close(exp(kt.bayesLogPredictive(counts: counts)[1]), (Double(k) + 0.5) / Double(n + 1)))
                let laplaceEvidence = factorial(k) * factorial(n - k) / factorial(n + 1)
                #expect(Self.close(laplace.logMarginalLikelihood(counts: counts), log(laplaceEvidence)) || n == 0,
                        "Laplace n=\(n) k=\(k)")
                let ktEvidence = doubleFactorialOfOdd(k) * doubleFactorialOfOdd(n - k) / (pow(2, Double(n)) * factorial(n))
                #expect(Self.close(kt.logMarginalLikelihood(counts: counts), log(ktEvidence)) || n == 0, "KT n=\(n) k=\(k)")
                if n == 0 {
                    #expect(abs(laplace.logMarginalLikelihood(counts: counts)) <= 1e-15)
                    #expect(abs(kt.logMarginalLikelihood(counts: counts)) <= 1e-15)
                }
                for a in 0...(n - k) where n <= 20 {
                    let c3 = [a, k, n - k - a]
                    let evidence = 2 * factorial(c3[0]) * factorial(c3[1]) * factorial(c3[2]) / factorial(n + 2)
                    #expect(Self.close(laplace3.logMarginalLikelihood(counts: c3), log(evidence)) || n == 0, "Laplace V=3 \(c3)")
                }
            }
        }
    }

    /// The symmetric two-coin mixture (0.2 / 0.8, weights 1/2) on itself:
    /// R_N = I(component; X^N) = ln 2 - H(component | X^N), with
    /// H(C | X^N) = sum_k C(N, k) P(k) h(posterior(k)) summed directly over
    /// the number k of ones; it tends to ln 2 with gap <= ln 2 * 0.8^N.
    @Test func twoCoinMixtureRegretIsMutualInformation() throws {
        let (p, q) = (0.2, 0.8)
        let mixture = try makeDataGenerator(.mixtureOfCategoricals(.init(
            batchSize: 1, sequenceLength: 1, vocabSize: 2, mixingWeights: [0.5, 0.5], biases: [[q, p], [p, q]])))
        let regret = try ExactRegret.compute(source: mixture, predictor: mixture, length: 200)
        var worst = 0.0
        for n in [1, 2, 3, 5, 10, 20, 50, 100, 200] {
            var conditionalEntropy = 0.0
            for k in 0...n {
                let first = 0.5 * pow(p, Double(k)) * pow(q, Double(n - k))
                let second = 0.5 * pow(q, Double(k)) * pow(p, Double(n - k))
                let sequenceProbability = first + second
                let posterior = first / sequenceProbability
                let h = BruteForceOracle.entropy([posterior, 1 - posterior])
                conditionalEntropy += exp(lnBinomial(n, k)) * sequenceProbability * h
            }
            let expected = log(2) - conditionalEntropy
            worst = max(worst, abs(regret.cumulativeRegret[n - 1] - expected) / expected)
            #expect(Self.close(regret.cumulativeRegret[n - 1], expected), "N=\(n): \(regret.cumulativeRegret[n - 1]) vs \(expected)")
            #expect(conditionalEntropy <= log(2) * pow(0.8, Double(n)) + 1e-15)
        }
        print("two-coin mixture: ln 2 - R_200 = \(log(2) - regret.cumulativeRegret[199]), worst relative error \(worst)")
    }
}
