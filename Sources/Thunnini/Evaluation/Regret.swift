/// Regret curves and their summaries over repetitions.
///
/// Instant regret at step n is the mean over sequences of
/// `loss[b, n] - groundTruthLoss[b, n]`; cumulative regret is its running sum
/// (entry n is the value after n + 1 predictions).
public enum Regret {
    /// Mean over the batch of `losses - groundTruthLosses`, both B x T.
    public static func instant(losses: Tensor, groundTruthLosses: Tensor) -> [Double] {
        precondition(losses.shape == groundTruthLosses.shape && losses.rank == 2,
                     "regret needs two B x T loss tensors, got \(losses.shape) and \(groundTruthLosses.shape)")
        let batch = losses.shape[0], length = losses.shape[1]
        var regret = [Double](repeating: 0, count: length)
        for t in 0..<length {
            var sum = 0.0
            for b in 0..<batch { sum += losses.storage[b * length + t] - groundTruthLosses.storage[b * length + t] }
            regret[t] = sum / Double(batch)
        }
        return regret
    }

    /// Running sum of a curve.
    public static func cumulative(_ instant: [Double]) -> [Double] {
        var running = 0.0
        return instant.map { running += $0; return running }
    }
}

/// Median and 25/75% quantiles of several curves, pointwise.
public struct QuantileBand: Codable, Equatable, Sendable {
    public var median: [Double]
    public var lower: [Double]
    public var upper: [Double]

    /// Pointwise quantiles (q = 0.25, 0.5, 0.75) over `curves`, all of one length.
    public init(curves: [[Double]]) {
        precondition(!curves.isEmpty, "quantiles of no curves")
        let length = curves[0].count
        precondition(curves.allSatisfy { $0.count == length }, "curves of different lengths")
        var median: [Double] = [], lower: [Double] = [], upper: [Double] = []
        for t in 0..<length {
            let column = curves.map { $0[t] }.sorted()
            lower.append(Self.quantile(sorted: column, 0.25))
            median.append(Self.quantile(sorted: column, 0.5))
            upper.append(Self.quantile(sorted: column, 0.75))
        }
        self.median = median
        self.lower = lower
        self.upper = upper
    }

    /// numpy's default ("linear") quantile of sorted values:
    /// position h = (n - 1) q, interpolate between floor(h) and ceil(h).
    public static func quantile(sorted values: [Double], _ q: Double) -> Double {
        let h = Double(values.count - 1) * q
        let below = Int(h.rounded(.down))
        let above = min(below + 1, values.count - 1)
        return values[below] + (h - Double(below)) * (values[above] - values[below])
    }
}
