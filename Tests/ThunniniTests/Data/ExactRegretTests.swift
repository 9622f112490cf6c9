import Foundation
@testable import Thunnini
import Testing

/// Every (source, predictor) pair of generator cases.
let allGeneratorPairs: [(GeneratorCase, GeneratorCase)] =
    allGeneratorCases.flatMap { source in allGeneratorCases.map { (source, $0) } }

func categorical(_ biases: [Double]) throws -> any DataGenerator {
    try makeDataGenerator(.categorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: biases.count, biases: biases)))
}

func dirichlet(_ alphas: [Double]) throws -> any DataGenerator {
    try makeDataGenerator(.dirichletCategorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: alphas.count, alphas: alphas)))
}

/// ln C(n, k) with Foundation's lgamma (independent of the GSL path).
func lnBinomial(_ n: Int, _ k: Int) -> Double {
    lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
}

@Suite("Exact regret")
struct ExactRegretTests {
    /// Source Categorical(0.2, 0.8), predictor Dirichlet(1, 1) (Laplace):
    /// R_N = ln(N + 1) - H(Binomial(N, 0.2)) (Docs/exact-regret.md, identity 1),
    /// evaluated here by a direct sum over the binomial count k.
    @Test func coinUnderLaplaceMatchesBinomialEntropyIdentity() throws {
        let theta = 0.2
        let regret = try ExactRegret.compute(source: categorical([theta, 1 - theta]),
                                             predictor: dirichlet([1, 1]), length: 200)
        for n in [50, 100, 200] {
            var binomialEntropy = 0.0
            for k in 0...n {
                let logProbability = lnBinomial(n, k) + Double(k) * log(theta) + Double(n - k) * log(1 - theta)
                binomialEntropy -= exp(logProbability) * logProbability
            }
            let expected = log(Double(n + 1)) - binomialEntropy
            #expect(abs(regret.cumulativeRegret[n - 1] - expected) <= 1e-10,
                    "N=\(n): exact \(regret.cumulativeRegret[n - 1]) vs binomial sum \(expected)")
            // Asymptotics: R_N = 1/2 ln(N / (2 pi e theta (1 - theta)))
            // + (1 + (1 - 4 theta (1 - theta)) / (12 theta (1 - theta))) / N + O(1/N^2);
            // the 1/N coefficient is 19/16 for theta = 0.2.
            let pq = theta * (1 - theta)
            let leading = 0.5 * log(Double(n) / (2 * Double.pi * M_E * pq))
            let firstCorrection = 1 + (1 - 4 * pq) / (12 * pq)
            #expect(abs(firstCorrection - 19.0 / 16.0) <= 1e-15)
            let scaledRemainder = (regret.cumulativeRegret[n - 1] - leading) * Double(n)
            #expect(abs(scaledRemainder - firstCorrection) <= 0.3 / Double(n),
                    "N=\(n): N (R_N - leading) = \(scaledRemainder)")
        }
    }

    /// Source and predictor Dirichlet(1, 1): R_N = E[-log xi(x)] - N E[H(theta)]
    /// with k uniform on 0..N, -log xi(x) = ln(N + 1) + ln C(N, k), and
    /// E[H] = psi(A + 1) - sum_v (alpha_v / A) psi(alpha_v + 1) = psi(3) - psi(2) = 1/2.
    @Test func laplaceOnItsOwnPriorMatchesClosedForm() throws {
        let uniformPrior = try dirichlet([1, 1])
        let regret = try ExactRegret.compute(source: uniformPrior, predictor: uniformPrior, length: 200)
        let expectedEntropy = SpecialFunctions.digamma(3) - 0.5 * SpecialFunctions.digamma(2)
            - 0.5 * SpecialFunctions.digamma(2)
        #expect(abs(expectedEntropy - 0.5) <= 1e-15)
        #expect(abs(regret.oracleInstantLoss - expectedEntropy) <= 1e-15)
        for n in [1, 2, 10, 50, 100, 200] {
            var meanLogCode = 0.0
            for k in 0...n { meanLogCode += (log(Double(n + 1)) + lnBinomial(n, k)) / Double(n + 1) }
            let expected = meanLogCode - Double(n) * expectedEntropy
            #expect(abs(regret.cumulativeRegret[n - 1] - expected) <= 1e-10,
                    "N=\(n): exact \(regret.cumulativeRegret[n - 1]) vs closed form \(expected)")
        }
    }

    /// Mixture of coins 0.2 / 0.8 with weights 1/2 under its own Bayes
    /// predictor: R_N = I(component; x_1..x_N), nondecreasing, and
    /// 0 <= ln 2 - R_N <= ln 2 * 0.8^N (Docs/exact-regret.md, identity 3).
    @Test func twoCoinMixtureRegretTendsToLogTwo() throws {
        let mixture = try makeDataGenerator(.mixtureOfCategoricals(.init(
            batchSize: 1, sequenceLength: 1, vocabSize: 2, mixingWeights: [0.5, 0.5],
            biases: [[0.2, 0.8], [0.8, 0.2]])))
        let regret = try ExactRegret.compute(source: mixture, predictor: mixture, length: 200)
        let rounding = 1e-12
        for n in 1...200 {
            let gap = log(2) - regret.cumulativeRegret[n - 1]
            #expect(gap >= -rounding, "N=\(n): R_N exceeds ln 2 by \(-gap)")
            #expect(gap <= log(2) * pow(0.8, Double(n)) + rounding, "N=\(n): gap \(gap)")
            #expect(regret.instantRegret[n - 1] >= -rounding)
        }
        #expect(abs(regret.cumulativeRegret[199] - log(2)) <= 1e-12)
    }

    /// The source's own Bayes predictor has the smallest expected instant
    /// loss of all predictors, and every predictor's instant regret is >= 0.
    @Test(arguments: allGeneratorPairs)
    func ownBayesPredictorIsBest(_ sourceCase: GeneratorCase, _ predictorCase: GeneratorCase) throws {
        for vocabSize in [2, 3] {
            let source = try sourceCase.generator(vocabSize: vocabSize)
            let predictor = try predictorCase.generator(vocabSize: vocabSize)
            let own = try ExactRegret.compute(source: source, predictor: source, length: 25)
            let other = try ExactRegret.compute(source: source, predictor: predictor, length: 25)
            for n in 0..<25 {
                #expect(other.expectedInstantLoss[n] >= own.expectedInstantLoss[n] - 1e-12)
                #expect(own.instantRegret[n] >= -1e-12)
            }
        }
    }

    /// A categorical source predicted by itself has zero regret.
    @Test func categoricalOnItselfHasZeroRegret() throws {
        let source = try categorical([0.1, 0.2, 0.3, 0.4])
        let regret = try ExactRegret.compute(source: source, predictor: source, length: 10)
        for value in regret.cumulativeRegret { #expect(abs(value) <= 1e-14) }
    }

    /// The enumeration visits C(n + V - 1, V - 1) distinct count vectors of
    /// total n, and `totalCount` is C(N - 1 + V, V).
    @Test func countVectorEnumerationIsComplete() {
        for parts in 1...4 {
            var cumulative = 0
            for total in 0...8 {
                var seen = Set<[Int]>()
                CountVectors.forEach(total: total, parts: parts) { counts in
                    #expect(counts.reduce(0, +) == total && counts.allSatisfy { $0 >= 0 })
                    seen.insert(counts)
                }
                let expected = Int(exp(lnBinomial(total + parts - 1, parts - 1)).rounded())
                #expect(seen.count == expected, "n=\(total) V=\(parts)")
                cumulative += seen.count
                #expect(CountVectors.totalCount(length: total + 1, vocabSize: parts, cap: 1e18) == Double(cumulative))
            }
        }
    }

    /// Too large an enumeration, a length below 0 and mismatched vocab sizes
    /// are refused with one clear error.
    @Test func refusesWhatItCannotCompute() throws {
        let big = try dirichlet([Double](repeating: 1, count: 20))
        #expect {
            _ = try ExactRegret.compute(source: big, predictor: big, length: 1000)
        } throws: { error in
            (error as? ThunniniError)?.message.contains("count vectors") == true
        }
        let coin = try dirichlet([1, 1])
        // Lengths 0..<5 with V = 2 have C(6, 2) = 15 count vectors.
        #expect(throws: ThunniniError.self) {
            _ = try ExactRegret.compute(source: coin, predictor: coin, length: 5, countVectorLimit: 14)
        }
        _ = try ExactRegret.compute(source: coin, predictor: coin, length: 5, countVectorLimit: 15)
        #expect(throws: ThunniniError.self) {
            _ = try ExactRegret.compute(source: coin, predictor: coin, length: -1)
        }
        #expect(throws: ThunniniError.self) {
            _ = try ExactRegret.compute(source: coin, predictor: try dirichlet([1, 1, 1]), length: 3)
        }
    }

    /// The CLI's JSON: the two arrays, round-tripping exactly; an infinite
    /// regret (predictor gives 0 to a possible token) is refused.
    @Test func jsonHasBothArraysAndRefusesInfinity() throws {
        let regret = try ExactRegret.compute(source: categorical([0.2, 0.8]), predictor: dirichlet([1, 1]), length: 7)
        let text = try regret.json()
        // Valid JSON with exactly the two keys, each a list of N numbers.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [Double]])
        #expect(Set(object.keys) == ["instant_regret", "cumulative_regret"])
        // The numbers round-trip bit for bit (read with Double(String), which
        // rounds correctly, unlike corelibs' JSONSerialization).
        func numbers(after key: String) throws -> [Double] {
            let start = try #require(text.range(of: "\"\(key)\": ["))
            let end = try #require(text[start.upperBound...].firstIndex(of: "]"))
            return text[start.upperBound..<end].split(separator: ",").compactMap {
                Double($0.trimmingCharacters(in: .whitespaces))
            }
        }
        #expect(try numbers(after: "instant_regret") == regret.instantRegret)
        #expect(try numbers(after: "cumulative_regret") == regret.cumulativeRegret)
        let impossible = try ExactRegret.compute(source: categorical([0.2, 0.8]), predictor: categorical([0, 1]), length: 3)
        #expect(impossible.cumulativeRegret[0] == .infinity)
        #expect(throws: ThunniniError.self) { _ = try impossible.json() }
    }

    /// The exact quantities ignore batch_size and sequence_length, so a
    /// config used only for them need not have valid ones.
    @Test func batchShapeIsNotCheckedWhenIgnored() throws {
        let config = DataGeneratorConfig.dirichletCategorical(.init(batchSize: -1, sequenceLength: -1, vocabSize: 2, alphas: [1, 1]))
        #expect(throws: ThunniniError.self) { _ = try makeDataGenerator(config) }
        _ = try makeDataGenerator(config, checkingBatchShape: false)
    }
}
