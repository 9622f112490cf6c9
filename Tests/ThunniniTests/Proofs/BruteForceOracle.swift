import Foundation
@testable import Thunnini

/// An independent oracle for the exact quantities of a data generator.
///
/// It reads only the *config* (the numbers a user writes) and computes every
/// probability of a whole token sequence directly from the generative story,
/// by plain products of probabilities (no logs, no count vectors, no special
/// functions, no code of the production generators):
///
/// - Categorical: `prod_t biases[x_t]`;
/// - Mixture of categoricals: `sum_c w_c prod_t biases[c][x_t]`;
/// - Dirichlet-Categorical: the Polya urn, `prod_t (alpha_{x_t} + #{s < t:
///   x_s = x_t}) / (A + t)`.
///
/// Everything else (predictive, expected losses, regret) is derived from
/// whole-sequence probabilities by enumerating all V^T sequences: the
/// predictive is a ratio of two sequence probabilities, and expectations are
/// sums over sequences weighted by their probability.
struct BruteForceOracle {
    let vocabSize: Int
    private let probabilityOfSequence: ([Int]) -> Double
    /// E_theta[H(theta)], the oracle's expected instant loss.
    let expectedOracleEntropy: Double

    init(_ config: DataGeneratorConfig) {
        vocabSize = config.vocabSize
        switch config {
        case .categorical(let c):
            let biases = c.biases
            probabilityOfSequence = { tokens in tokens.reduce(1.0) { $0 * biases[$1] } }
            expectedOracleEntropy = Self.entropy(biases)
        case .mixtureOfCategoricals(let c):
            let weights = c.mixingWeights, biases = c.biases
            probabilityOfSequence = { tokens in
                var total = 0.0
                for component in 0..<weights.count {
                    total += weights[component] * tokens.reduce(1.0) { $0 * biases[component][$1] }
                }
                return total
            }
            expectedOracleEntropy = zip(weights, biases).reduce(0.0) { $0 + $1.0 * Self.entropy($1.1) }
        case .dirichletCategorical(let c):
            let alphas = c.alphas
            let alphaSum = alphas.reduce(0, +)
            probabilityOfSequence = { tokens in
                var seen = [Double](repeating: 0, count: alphas.count)
                var probability = 1.0
                for (t, token) in tokens.enumerated() {
                    probability *= (alphas[token] + seen[token]) / (alphaSum + Double(t))
                    seen[token] += 1
                }
                return probability
            }
            // E[theta_v log theta_v] = (alpha_v / A) E_{Dir(alpha + e_v)}[log theta_v]
            // = (alpha_v / A) (psi(alpha_v + 1) - psi(A + 1)); digamma is the
            // test's own (`Self.digamma`), not GSL's.
            expectedOracleEntropy = alphas.reduce(0.0) { total, alpha in
                total + alpha / alphaSum * (Self.digamma(alphaSum + 1) - Self.digamma(alpha + 1))
            }
        }
    }

    /// P(x_1, ..., x_T) of this exact token sequence.
    func probability(_ tokens: [Int]) -> Double { probabilityOfSequence(tokens) }

    /// P(next token = v | tokens), as P(tokens + [v]) / P(tokens).
    func predictive(_ tokens: [Int]) -> [Double] {
        let denominator = probability(tokens)
        return (0..<vocabSize).map { probability(tokens + [$0]) / denominator }
    }

    /// E_source[-log q(x_{n+1} | x_1..x_n)] for n = 0..<length, where q is
    /// `predictor`'s predictive, as sums over all V^(n+1) sequences.
    func expectedInstantLosses(of predictor: BruteForceOracle, length: Int) -> [Double] {
        (0..<length).map { n in
            var total = 0.0
            Self.forEachSequence(length: n + 1, vocabSize: vocabSize) { tokens in
                let weight = probability(tokens)
                if weight == 0 { return }
                let conditional = predictor.probability(tokens) / predictor.probability(Array(tokens.dropLast()))
                total -= weight * log(conditional)
            }
            return total
        }
    }

    /// Calls `body` on every sequence of `length` tokens over `vocabSize`
    /// symbols (odometer order; one call with [] for length 0).
    static func forEachSequence(length: Int, vocabSize: Int, _ body: ([Int]) -> Void) {
        var tokens = [Int](repeating: 0, count: length)
        while true {
            body(tokens)
            var position = length - 1
            while position >= 0 && tokens[position] == vocabSize - 1 {
                tokens[position] = 0
                position -= 1
            }
            if position < 0 { return }
            tokens[position] += 1
        }
    }

    static func entropy(_ probabilities: [Double]) -> Double {
        probabilities.reduce(0.0) { $1 > 0 ? $0 - $1 * log($1) : $0 }
    }

    /// psi(x) for x > 0: the recurrence psi(x) = psi(x + 1) - 1/x up to
    /// x >= 12, then the asymptotic series ln x - 1/(2x) - sum_k
    /// B_{2k} / (2k x^{2k}) to k = 7 (remainder below 1e-17 there).
    static func digamma(_ x: Double) -> Double {
        var x = x, shift = 0.0
        while x < 12 { shift -= 1 / x; x += 1 }
        let inverseSquare = 1 / (x * x)
        // B_2/2, B_4/4, ..., B_14/14.
        let coefficients: [Double] = [1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12]
        var series = 0.0, power = inverseSquare
        for c in coefficients { series += c * power; power *= inverseSquare }
        return shift + log(x) - 0.5 / x - series
    }
}
