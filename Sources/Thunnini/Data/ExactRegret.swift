import Foundation

/// Exact expected losses and regrets of one generator's Bayes predictor on
/// data from another generator, by enumerating count vectors (no sampling).
/// The math and its proofs are in Docs/exact-regret.md.
public struct ExactRegret: Equatable, Sendable {
    /// Entry n: E[-log q(x_{n+1} | x_1..x_n)], the predictor's expected
    /// instant loss at prediction n (which sees n tokens).
    public var expectedInstantLoss: [Double]
    /// E_theta[H(theta)] of the source: its oracle's expected instant loss
    /// (the same at every step).
    public var oracleInstantLoss: Double
    /// Entry n - 1: expected instant regret of prediction n - 1, i.e. after
    /// n predictions: `expectedInstantLoss[n - 1] - oracleInstantLoss`.
    public var instantRegret: [Double]
    /// Entry n - 1: the sum of the first n instant regrets.
    public var cumulativeRegret: [Double]

    /// The largest number of count vectors (summed over all lengths
    /// 0..<N, i.e. C(N - 1 + V, V)) that `compute` enumerates before it
    /// refuses: 5e7 (a few microseconds each in a debug build, less in
    /// release). Largest N within it: 9999 for V = 2, 668 for V = 3.
    public static let countVectorLimit = 50_000_000

    /// The exact expected regret over `length` predictions of `predictor`'s
    /// Bayes predictor on data from `source`, relative to the source's
    /// oracle (the predictor that knows the latent parameter).
    ///
    /// Prediction n costs one pass over the C(n + V - 1, V - 1) count
    /// vectors m of n tokens:
    /// E[loss_n] = sum_m P_source(m) sum_v P_source(v | m) (-log q(v | m)),
    /// with P_source(m) = multinomial(n; m) exp(logMarginalLikelihood(m)).
    ///
    /// Throws when the vocab sizes differ, `length` < 0, or the
    /// enumeration would exceed `countVectorLimit` (the default
    /// `ExactRegret.countVectorLimit`).
    public static func compute(source: any DataGenerator, predictor: any DataGenerator, length: Int,
                               countVectorLimit: Int = ExactRegret.countVectorLimit) throws -> ExactRegret {
        let v = source.vocabSize
        guard predictor.vocabSize == v else {
            throw ThunniniError("exact regret: source vocab_size \(v) differs from predictor vocab_size \(predictor.vocabSize)")
        }
        guard length >= 0 else {
            throw ThunniniError("exact regret: length must be >= 0, got \(length)")
        }
        let needed = CountVectors.totalCount(length: length, vocabSize: v, cap: Double(countVectorLimit))
        guard needed <= Double(countVectorLimit) else {
            throw ThunniniError("exact regret: length \(length) with vocab_size \(v) needs "
                + "\(needed > 1e15 ? "more than 1e15" : String(format: "%.0f", needed)) count vectors "
                + "(C(N-1+V, V)), above the limit of \(countVectorLimit); use a shorter length")
        }

        // Each count vector costs O(V) (predictives, evidence): bound the work, not only the count.
        guard needed * Double(v) <= Double(countVectorLimit) * 4 else {
            throw ThunniniError("exact regret: length \(length) with vocab_size \(v) needs about "
                + String(format: "%.2g", needed * Double(v)) + " operations (count vectors x vocab_size), above the limit of "
                + "\(countVectorLimit * 4); use a shorter length or a smaller vocabulary")
        }
        for (role, generator) in [("source", source), ("predictor", predictor)] {
            guard let dirichlet = generator as? DirichletCategoricalGenerator else { continue }
            let sum = dirichlet.alphas.reduce(0, +)
            // Beyond 2^53 adding a count to the alphas is lost in double precision:
            // the predictive would ignore the data and the evidence would be rounding noise.
            guard sum < 9_007_199_254_740_992 else {
                throw ThunniniError("exact regret: the \(role)'s alphas sum to \(sum), above 2^53, where adding counts to them is lost in double precision; use a Categorical config for a known distribution")
            }
        }

        let oracle = source.expectedOracleEntropy()
        var expectedLoss = [Double](repeating: 0, count: length)
        for n in 0..<length {
            expectedLoss[n] = expectedInstantLoss(source: source, predictor: predictor, tokensSeen: n)
        }
        var instant = [Double](repeating: 0, count: length)
        var cumulative = [Double](repeating: 0, count: length)
        var runningSum = 0.0
        for n in 0..<length {
            instant[n] = expectedLoss[n] - oracle
            runningSum += instant[n]
            cumulative[n] = runningSum
        }
        return ExactRegret(expectedInstantLoss: expectedLoss, oracleInstantLoss: oracle,
                           instantRegret: instant, cumulativeRegret: cumulative)
    }

    /// E[-log q(x_{n+1} | x_1..x_n)] for n = `tokensSeen`: the sum over all
    /// count vectors m of n tokens described in `compute`. Terms with
    /// P_source = 0 are skipped (0 log 0 = 0); a token the source can emit
    /// but the predictor gives probability 0 makes the result +inf.
    static func expectedInstantLoss(source: any DataGenerator, predictor: any DataGenerator,
                                    tokensSeen n: Int) -> Double {
        let v = source.vocabSize
        var total = 0.0
        var realCounts = [Double](repeating: 0, count: v)
        CountVectors.forEach(total: n, parts: v) { counts in
            for token in 0..<v { realCounts[token] = Double(counts[token]) }
            let logProbabilityOfCounts = SpecialFunctions.lnMultinomial(counts)
                + source.logMarginalLikelihood(counts: realCounts)
            let probabilityOfCounts = exp(logProbabilityOfCounts)
            if probabilityOfCounts == 0 { return }
            let sourceNext = source.bayesLogPredictive(counts: realCounts)
            let predictorNext = predictor.bayesLogPredictive(counts: realCounts)
            var crossEntropy = 0.0
            for token in 0..<v where sourceNext[token] > -.infinity {
                crossEntropy -= exp(sourceNext[token]) * predictorNext[token]
            }
            total += probabilityOfCounts * crossEntropy
        }
        return total
    }
}

extension ExactRegret {
    /// `{"instant_regret": [...], "cumulative_regret": [...]}` with every
    /// number in Swift's shortest round-trip form. Throws when a value is
    /// not finite (JSON has no infinity), which happens exactly when the
    /// predictor gives probability 0 to a token the source can emit.
    public func json() throws -> String {
        for value in instantRegret + cumulativeRegret where value.isNaN {
            throw ThunniniError("exact regret is nan: an intermediate value overflowed (parameters too extreme for double precision)")
        }
        for value in instantRegret + cumulativeRegret where !value.isFinite {
            throw ThunniniError("exact regret is \(value): the predictor gives probability 0 "
                + "to a token the source can emit")
        }
        func list(_ values: [Double]) -> String {
            "[" + values.map { "\($0)" }.joined(separator: ", ") + "]"
        }
        return "{\"instant_regret\": \(list(instantRegret)), \"cumulative_regret\": \(list(cumulativeRegret))}"
    }
}
