import Foundation

extension RandomStream {
    /// A Gamma(shape, scale 1) draw.
    ///
    /// For shape >= 1 this is Marsaglia & Tsang (2000), "A simple method for
    /// generating gamma variables", an exact rejection sampler built on a
    /// normal draw; for shape < 1 it uses their boost
    /// Gamma(a) = Gamma(a + 1) * U^(1/a). Computed as `exp` of `logGamma`,
    /// so for very small shapes the result may underflow to 0 (the log is
    /// still accurate; `dirichlet` works in logs for that reason).
    /// The number of words taken is random.
    /// - Precondition: `shape > 0` and finite.
    public mutating func gamma(shape: Double) -> Double {
        exp(logGamma(shape: shape))
    }

    /// The logarithm of a Gamma(shape, 1) draw, without underflow for small
    /// shapes: log Gamma(a + 1) + log(U) / a when a < 1.
    /// - Precondition: `shape > 0` and finite.
    public mutating func logGamma(shape: Double) -> Double {
        precondition(shape > 0 && shape.isFinite, "gamma needs a finite shape > 0, got \(shape)")
        if shape < 1 {
            let logBoost = log(uniformPositive()) / shape
            return log(marsagliaTsang(shape: shape + 1)) + logBoost
        }
        return log(marsagliaTsang(shape: shape))
    }

    /// Marsaglia–Tsang for shape >= 1: with d = shape - 1/3 and
    /// c = 1 / sqrt(9 d), propose d * (1 + c x)^3 for a standard normal x and
    /// accept when log u < x^2 / 2 + d - d v + d log v, v = (1 + c x)^3.
    /// (The optional quick-accept squeeze is left out: it only saves time.)
    private mutating func marsagliaTsang(shape: Double) -> Double {
        let d = shape - 1.0 / 3.0
        let c = 1.0 / (9.0 * d).squareRoot()
        while true {
            let x = normal()
            let t = 1.0 + c * x
            if t <= 0 { continue }
            let v = t * t * t
            let logU = log(uniformPositive())
            if logU < 0.5 * x * x + d - d * v + d * log(v) {
                return d * v
            }
        }
    }

    /// A Dirichlet(alphas) draw: independent Gamma(alpha_i, 1) draws divided
    /// by their sum, done in logs (a softmax of `logGamma` draws) so that
    /// small concentrations do not underflow to 0 / 0. Components are drawn
    /// in index order.
    /// - Precondition: `alphas` is non-empty and every alpha is finite and > 0.
    public mutating func dirichlet(alphas: [Double]) -> [Double] {
        precondition(!alphas.isEmpty, "dirichlet needs at least one concentration")
        var logGammas = [Double](repeating: 0, count: alphas.count)
        for index in 0..<alphas.count {
            precondition(alphas[index] > 0 && alphas[index].isFinite,
                         "dirichlet needs finite concentrations > 0, got \(alphas[index]) at \(index)")
            logGammas[index] = logGamma(shape: alphas[index])
        }
        let largest = logGammas.max()!
        var weights = [Double](repeating: 0, count: alphas.count)
        var total = 0.0
        for index in 0..<alphas.count {
            weights[index] = exp(logGammas[index] - largest)
            total += weights[index]
        }
        for index in 0..<alphas.count {
            weights[index] /= total
        }
        return weights
    }
}
