import Foundation

extension RandomStream {
    /// A standard normal draw by the Box–Muller transform, cosine branch:
    /// `sqrt(-2 log u1) * cos(2 pi u2)` with `u1` in (0, 1] and `u2` in [0, 1).
    ///
    /// Takes two uniforms (four words); the sine partner is discarded so that
    /// the stream has no cached state. Exact in distribution for exact
    /// uniforms; with 53-bit uniforms, |z| never exceeds
    /// sqrt(2 * 53 * log 2) ≈ 8.57 (a tail mass below 1e-17).
    public mutating func normal() -> Double {
        let radiusUniform = uniformPositive()
        let angleUniform = uniform()
        let radius = (-2.0 * log(radiusUniform)).squareRoot()
        return radius * cos(2.0 * Double.pi * angleUniform)
    }

    /// A standard normal draw conditioned on [lower, upper], by exact
    /// rejection sampling (Robert 1995, "Simulation of truncated normal
    /// variables"); infinite bounds are allowed.
    ///
    /// The proposal depends on the interval; every branch accepts with the
    /// exact ratio target / (M * proposal), so the output distribution is the
    /// truncated normal whatever branch runs. The thresholds only choose the
    /// cheaper proposal and keep the acceptance rate of each try above
    /// about 1/e (Docs/random.md):
    /// - 0 inside (lower, upper), width <= sqrt(2 pi): uniform proposal,
    ///   accept with probability exp(-x^2 / 2);
    /// - 0 inside, wider: normal proposal, accept if inside;
    /// - lower >= 0: the one-sided tail sampler `positiveTail` below;
    /// - upper <= 0: the mirror image of that.
    /// The number of words taken is random.
    /// - Precondition: `lower < upper`, neither is NaN.
    public mutating func truncatedNormal(lower: Double, upper: Double) -> Double {
        precondition(!lower.isNaN && !upper.isNaN && lower < upper,
                     "truncatedNormal needs lower < upper, got [\(lower), \(upper)]")
        if lower >= 0 {
            return positiveTail(lower: lower, upper: upper)
        }
        if upper <= 0 {
            return -positiveTail(lower: -upper, upper: -lower)
        }
        // Here lower < 0 < upper.
        if upper - lower <= (2.0 * Double.pi).squareRoot() {
            while true {
                let x = uniform(in: lower..<upper)
                if uniform() < exp(-0.5 * x * x) { return x }
            }
        }
        while true {
            let z = normal()
            if z >= lower && z <= upper { return z }
        }
    }

    /// Standard normal conditioned on [lower, upper] with 0 <= lower < upper
    /// (upper may be infinite).
    ///
    /// Narrow intervals (upper^2 - lower^2 <= 2) use a uniform proposal,
    /// accepted with probability exp((lower^2 - x^2) / 2) >= 1/e. Others use
    /// Robert's translated exponential proposal x = lower + E / rate with the
    /// optimal rate (lower + sqrt(lower^2 + 4)) / 2, rejecting x > upper and
    /// accepting with probability exp(-(x - rate)^2 / 2).
    private mutating func positiveTail(lower: Double, upper: Double) -> Double {
        if (upper - lower) * (upper + lower) <= 2 {
            while true {
                let x = uniform(in: lower..<upper)
                // (lower^2 - x^2) / 2 written as a product to avoid overflow.
                if uniform() < exp(-0.5 * (x - lower) * (x + lower)) { return x }
            }
        }
        // hypot avoids overflow of lower^2 for huge bounds.
        let rootTerm = hypot(lower, 2.0)
        let rate = 0.5 * lower + 0.5 * rootTerm
        // rate - lower, computed without cancellation.
        let rateAboveLower = 2.0 / (rootTerm + lower)
        while true {
            let excess = -log(uniformPositive()) / rate   // Exp(rate) draw
            let x = lower + excess
            if x > upper { continue }
            let distanceFromRate = excess - rateAboveLower   // x - rate
            if uniform() < exp(-0.5 * distanceFromRate * distanceFromRate) { return x }
        }
    }
}
