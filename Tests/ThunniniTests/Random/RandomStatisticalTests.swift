import Foundation
import Testing
@testable import Thunnini

/// Statistical checks of the samplers at fixed seeds. Because the seeds are
/// fixed the outcomes are deterministic; the thresholds (RandomTestStatistics,
/// Docs/random.md) are set so that a correct sampler fails a single check
/// with probability about 1e-3 (KS, chi-square) or 6e-5 (moments) over the
/// choice of seed, while a wrong distribution fails decisively.
struct RandomStatisticalTests {
    typealias Stats = RandomTestStatistics

    static let sampleCount = 40_000

    /// `count` draws of `draw` from the stream of `RandomKey(seed:)`.
    static func draws(seed: UInt64, count: Int = sampleCount,
                      _ draw: (inout RandomStream) -> Double) -> [Double] {
        var stream = RandomStream(key: RandomKey(seed: seed))
        return (0..<count).map { _ in draw(&stream) }
    }

    static func expectMoments(_ values: [Double], mean: Double, variance: Double,
                              _ label: String) {
        let moments = Stats.moments(values)
        let k = Stats.standardErrors
        #expect(abs(moments.mean - mean) < k * moments.meanStandardError,
                "\(label): mean \(moments.mean) vs \(mean) (SE \(moments.meanStandardError))")
        #expect(abs(moments.variance - variance) < k * moments.varianceStandardError,
                "\(label): variance \(moments.variance) vs \(variance) (SE \(moments.varianceStandardError))")
    }

    static func expectKolmogorov(_ values: [Double], _ label: String, cdf: (Double) -> Double) {
        let statistic = Stats.scaledKolmogorovStatistic(values, cdf: cdf)
        #expect(statistic < Stats.kolmogorovCritical, "\(label): sqrt(n) D = \(statistic)")
    }

    @Test("the tabulated critical values have the stated tail probabilities")
    func criticalValuesAreRight() {
        #expect(abs(Stats.kolmogorovTail(Stats.kolmogorovCritical) - 0.001) < 1e-5)
        for (degrees, critical) in Stats.chiSquareCritical {
            #expect(abs(Stats.chiSquareTail(critical, degrees: degrees) - 0.001) < 1e-5,
                    "chi-square df \(degrees)")
        }
    }

    @Test("uniform: mean 1/2, variance 1/12, KS against x")
    func uniform() {
        let values = Self.draws(seed: 101) { $0.uniform() }
        #expect(values.allSatisfy { $0 >= 0 && $0 < 1 })
        Self.expectMoments(values, mean: 0.5, variance: 1.0 / 12.0, "uniform")
        Self.expectKolmogorov(values, "uniform") { min(max($0, 0), 1) }
    }

    @Test("uniform(in:): mean (a+b)/2, variance (b-a)^2/12")
    func uniformInRange() {
        let values = Self.draws(seed: 102) { $0.uniform(in: -3..<5) }
        Self.expectMoments(values, mean: 1, variance: 64.0 / 12.0, "uniform(in: -3..<5)")
    }

    @Test("normal: mean 0, variance 1, KS against Phi")
    func normal() {
        let values = Self.draws(seed: 103) { $0.normal() }
        Self.expectMoments(values, mean: 0, variance: 1, "normal")
        Self.expectKolmogorov(values, "normal", cdf: Stats.normalCDF)
    }

    struct Interval: Sendable, CustomTestStringConvertible {
        let lower: Double
        let upper: Double
        var testDescription: String { "[\(lower), \(upper)]" }
    }

    /// One interval per branch of the sampler: normal rejection, uniform
    /// around 0, uniform in a tail, exponential with finite and infinite
    /// upper bound, and their mirror images.
    static let intervals: [Interval] = [
        Interval(lower: -2, upper: 2),
        Interval(lower: -0.5, upper: 1),
        Interval(lower: 0.5, upper: 1.2),
        Interval(lower: 1, upper: 3),
        Interval(lower: 3, upper: .infinity),
        Interval(lower: 0, upper: .infinity),
        Interval(lower: -.infinity, upper: -4),
        Interval(lower: -3, upper: -2.5),
        Interval(lower: -.infinity, upper: .infinity),
    ]

    @Test("truncated normal: support, closed-form mean and variance, KS", arguments: intervals)
    func truncatedNormal(interval: Interval) {
        let values = Self.draws(seed: 104, count: 20_000) {
            $0.truncatedNormal(lower: interval.lower, upper: interval.upper)
        }
        #expect(values.allSatisfy { $0 >= interval.lower && $0 <= interval.upper })
        let truth = Stats.truncatedNormalMoments(lower: interval.lower, upper: interval.upper)
        Self.expectMoments(values, mean: truth.mean, variance: truth.variance,
                           "truncated normal \(interval.testDescription)")
        Self.expectKolmogorov(values, "truncated normal \(interval.testDescription)") {
            Stats.truncatedNormalCDF($0, lower: interval.lower, upper: interval.upper)
        }
    }

    @Test("gamma: mean = variance = shape, KS against P(shape, x)",
          arguments: [0.1, 0.5, 1.0, 3.0, 7.5])
    func gamma(shape: Double) {
        let values = Self.draws(seed: 105, count: 20_000) { $0.gamma(shape: shape) }
        #expect(values.allSatisfy { $0 >= 0 && $0.isFinite })
        Self.expectMoments(values, mean: shape, variance: shape, "gamma(\(shape))")
        Self.expectKolmogorov(values, "gamma(\(shape))") { Stats.gammaCDF($0, shape: shape) }
    }

    @Test("Dirichlet: on the simplex, component means alpha_i / sum, variances exact",
          arguments: [[0.5, 1, 2, 4.5], [0.05, 0.05, 0.1]])
    func dirichlet(alphas: [Double]) {
        var stream = RandomStream(key: RandomKey(seed: 106))
        let count = 20_000
        var components = [[Double]](repeating: [], count: alphas.count)
        for _ in 0..<count {
            let sample = stream.dirichlet(alphas: alphas)
            #expect(sample.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(abs(sample.reduce(0, +) - 1) < 1e-12)
            for index in alphas.indices { components[index].append(sample[index]) }
        }
        let total = alphas.reduce(0, +)
        for index in alphas.indices {
            let mean = alphas[index] / total
            // Var X_i = mean (1 - mean) / (total + 1).
            let variance = mean * (1 - mean) / (total + 1)
            Self.expectMoments(components[index], mean: mean, variance: variance,
                               "Dirichlet\(alphas) component \(index)")
        }
    }

    struct CategoricalCase: Sendable, CustomTestStringConvertible {
        let probabilities: [Double]
        var testDescription: String { "\(probabilities)" }
    }

    @Test("categorical: chi-square of counts below the 0.001 critical value; zeros never drawn",
          arguments: [CategoricalCase(probabilities: [0.1, 0.2, 0.3, 0.4]),
                      CategoricalCase(probabilities: [0.5, 0, 0.25, 0.125, 0.125]),
                      CategoricalCase(probabilities: [0.02, 0.08, 0.1, 0.1, 0.2, 0.05, 0.05, 0.1, 0.1, 0.2]),
                      CategoricalCase(probabilities: [2, 1, 1, 4])])
    func categorical(testCase: CategoricalCase) {
        let probabilities = testCase.probabilities
        let total = probabilities.reduce(0, +)
        var stream = RandomStream(key: RandomKey(seed: 107))
        let count = 50_000
        var counts = [Int](repeating: 0, count: probabilities.count)
        for _ in 0..<count { counts[stream.categorical(probabilities: probabilities)] += 1 }

        var chiSquare = 0.0
        var cells = 0
        for index in probabilities.indices {
            if probabilities[index] == 0 {
                #expect(counts[index] == 0)
                continue
            }
            let expected = Double(count) * probabilities[index] / total
            let difference = Double(counts[index]) - expected
            chiSquare += difference * difference / expected
            cells += 1
        }
        let critical = Stats.chiSquareCritical[cells - 1]!
        #expect(chiSquare < critical, "chi-square \(chiSquare) >= \(critical) (df \(cells - 1))")
    }
}
