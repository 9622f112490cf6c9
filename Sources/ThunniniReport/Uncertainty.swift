import Foundation
import Thunnini

/// A number read from a results folder with its uncertainty: the mean over
/// repetitions and evaluation sequences of a (combination of) methods'
/// cumulative regret, its standard error over the evaluation sequences, and
/// the spread over repetitions.
///
/// Every method of a source is evaluated on the same B sequences, so a
/// difference between methods is computed per sequence first (paired). With
/// x_b the mean over repetitions of sequence b's value (for a contrast, the
/// weighted sum over its terms of those means):
///
/// - `mean` = (1/B) sum_b x_b;
/// - `sequenceSE` = sd_b(x_b) / sqrt(B) (sample standard deviation, B - 1);
/// - `repetitionVariance` = sum over terms of c^2 s_r^2 / R, with s_r^2 the
///   sample variance over the term's R repetitions of their means over the
///   sequences (0 for a single repetition): the tuning randomness, which the
///   shared sequences do not average out;
/// - `standardError` = sqrt(sequenceSE^2 + repetitionVariance).
public struct Estimate: Equatable, Sendable {
    public var mean: Double
    public var sequenceSE: Double
    public var repetitionVariance: Double
    /// The standard deviation over repetitions of one method's means (nil for a contrast or one repetition).
    public var repetitionSD: Double?
    public var repetitions: Int
    public var sequences: Int
    public var standardError: Double { (sequenceSE * sequenceSE + repetitionVariance).squareRoot() }
}

/// Per-sequence values of one method at one mark: R x B (repetitions x sequences).
public struct SequenceSamples: Sendable {
    public var values: [[Double]]
    public init(values: [[Double]]) { self.values = values }

    /// The samples of (source, method) at the mark labelled `mark` (`N_tune`,
    /// `N_train`, `N_eval`), or nil when that method, source or mark is absent.
    public static func read(_ results: ResultsFolder, source: String, method: String, mark: String) -> SequenceSamples? {
        guard let summary = results.summaries.first(where: { $0.source == source && $0.method == method }),
              let m = summary.cumulativeRegretAtMarks.firstIndex(where: { $0.label == mark }),
              let tensor = results.perSequenceRegrets[source]?[method], tensor.rank == 3,
              m < tensor.shape[1] else { return nil }
        let (r, marks, b) = (tensor.shape[0], tensor.shape[1], tensor.shape[2])
        return SequenceSamples(values: (0..<r).map { rep in
            Array(tensor.storage[((rep * marks + m) * b)..<((rep * marks + m + 1) * b)])
        })
    }

    /// The mean over repetitions of each sequence's value.
    var sequenceMeans: [Double] {
        let b = values[0].count
        return (0..<b).map { i in values.reduce(0) { $0 + $1[i] } / Double(values.count) }
    }

    /// Sample variance over repetitions of the per-repetition means (0 for one repetition).
    var repetitionVariance: Double {
        guard values.count > 1 else { return 0 }
        return Uncertainty.sampleVariance(values.map { $0.reduce(0, +) / Double($0.count) })
    }
}

/// Estimates and paired contrasts over per-sequence samples (see `Estimate`).
public enum Uncertainty {
    /// How many standard errors a margin must exceed for a verdict.
    public static let criticalValue = 2.0

    static func sampleVariance(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return 0 }
        let mean = xs.reduce(0, +) / Double(xs.count)
        return xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
    }

    /// One method's estimate.
    public static func estimate(_ samples: SequenceSamples) -> Estimate {
        var e = contrast([(1, samples)])
        e.repetitionSD = samples.values.count > 1 ? samples.repetitionVariance.squareRoot() : nil
        return e
    }

    /// sum_k c_k * method_k, paired over the shared sequences.
    public static func contrast(_ terms: [(coefficient: Double, samples: SequenceSamples)]) -> Estimate {
        let b = terms[0].samples.values[0].count
        precondition(terms.allSatisfy { $0.samples.values.allSatisfy { $0.count == b } }, "contrast of samples on different sequences")
        var combined = [Double](repeating: 0, count: b)
        var repetitionVariance = 0.0
        for term in terms {
            let means = term.samples.sequenceMeans
            for i in 0..<b { combined[i] += term.coefficient * means[i] }
            repetitionVariance += term.coefficient * term.coefficient * term.samples.repetitionVariance / Double(term.samples.values.count)
        }
        let mean = combined.reduce(0, +) / Double(b)
        return Estimate(mean: mean, sequenceSE: (sampleVariance(combined) / Double(b)).squareRoot(),
                        repetitionVariance: repetitionVariance, repetitionSD: nil,
                        repetitions: terms.map { $0.samples.values.count }.max() ?? 1, sequences: b)
    }
}
