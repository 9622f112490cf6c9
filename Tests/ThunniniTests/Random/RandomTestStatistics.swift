import CGSL
import Foundation

/// Helpers for the statistical tests of the random engine. Thresholds and
/// their derivation are in Docs/random.md ("Test thresholds").
enum RandomTestStatistics {
    /// Tolerance of moment tests in standard errors: |estimate - truth| must
    /// be below 4 SE (two-sided normal tail probability 6.3e-5 per check).
    static let standardErrors = 4.0

    /// Asymptotic Kolmogorov–Smirnov critical value at alpha = 0.001: the
    /// test rejects when sqrt(n) * D_n > 1.95 (Kolmogorov's
    /// P(K > 1.95) = 2 sum (-1)^(k-1) exp(-2 k^2 1.95^2) ≈ 0.000997).
    static let kolmogorovCritical = 1.95

    /// Upper 0.001 quantiles of the chi-square distribution by degrees of
    /// freedom (standard tables, e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4).
    static let chiSquareCritical: [Int: Double] = [3: 16.266, 4: 18.467, 5: 20.515, 9: 27.877]

    /// Sample mean and (1/n) variance, plus the standard errors of both:
    /// SE(mean) = sqrt(m2 / n), SE(variance) = sqrt((m4 - m2^2) / n).
    struct Moments {
        let mean: Double
        let variance: Double
        let meanStandardError: Double
        let varianceStandardError: Double
    }

    static func moments(_ values: [Double]) -> Moments {
        let n = Double(values.count)
        var sum = 0.0
        for value in values { sum += value }
        let mean = sum / n
        var m2 = 0.0
        var m4 = 0.0
        for value in values {
            let centred = value - mean
            m2 += centred * centred
            m4 += centred * centred * centred * centred
        }
        m2 /= n
        m4 /= n
        return Moments(mean: mean, variance: m2,
                       meanStandardError: (m2 / n).squareRoot(),
                       varianceStandardError: ((m4 - m2 * m2) / n).squareRoot())
    }

    /// sqrt(n) * sup |F_n(x) - F(x)| for the empirical CDF F_n of `values`.
    static func scaledKolmogorovStatistic(_ values: [Double], cdf: (Double) -> Double) -> Double {
        let sorted = values.sorted()
        let n = Double(sorted.count)
        var largestGap = 0.0
        for index in 0..<sorted.count {
            let model = cdf(sorted[index])
            let above = Double(index + 1) / n - model   // F_n just after the point
            let below = model - Double(index) / n       // F_n just before it
            largestGap = max(largestGap, above, below)
        }
        return n.squareRoot() * largestGap
    }

    /// Kolmogorov's limiting tail P(K > x).
    static func kolmogorovTail(_ x: Double) -> Double {
        var total = 0.0
        for k in 1...100 {
            let sign: Double = k % 2 == 1 ? 1 : -1
            total += sign * exp(-2.0 * Double(k * k) * x * x)
        }
        return 2.0 * total
    }

    /// P(chi-square with `degrees` degrees of freedom > x) = Q(degrees/2, x/2).
    static func chiSquareTail(_ x: Double, degrees: Int) -> Double {
        gsl_sf_gamma_inc_Q(Double(degrees) / 2.0, x / 2.0)
    }

    /// Standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2.
    static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// Standard normal density.
    static func normalDensity(_ x: Double) -> Double {
        x.isInfinite ? 0 : exp(-0.5 * x * x) / (2.0 * Double.pi).squareRoot()
    }

    /// Phi(upper) - Phi(lower), computed on the side of 0 where it does not
    /// cancel (upper tail via erfc for positive intervals).
    static func normalMass(lower: Double, upper: Double) -> Double {
        if lower >= 0 {
            return 0.5 * (erfc(lower / 2.0.squareRoot()) - erfc(upper / 2.0.squareRoot()))
        }
        if upper <= 0 {
            return normalMass(lower: -upper, upper: -lower)
        }
        return normalCDF(upper) - normalCDF(lower)
    }

    /// Mean and variance of the standard normal truncated to [a, b]:
    /// with Z = Phi(b) - Phi(a),
    /// mean = (phi(a) - phi(b)) / Z,
    /// variance = 1 + (a phi(a) - b phi(b)) / Z - mean^2
    /// (a phi(a) taken as 0 at infinite a).
    static func truncatedNormalMoments(lower a: Double, upper b: Double) -> (mean: Double, variance: Double) {
        let mass = normalMass(lower: a, upper: b)
        let mean = (normalDensity(a) - normalDensity(b)) / mass
        let aTerm = a.isInfinite ? 0 : a * normalDensity(a)
        let bTerm = b.isInfinite ? 0 : b * normalDensity(b)
        return (mean, 1.0 + (aTerm - bTerm) / mass - mean * mean)
    }

    /// CDF of the standard normal truncated to [a, b].
    static func truncatedNormalCDF(_ x: Double, lower a: Double, upper b: Double) -> Double {
        if x <= a { return 0 }
        if x >= b { return 1 }
        return normalMass(lower: a, upper: x) / normalMass(lower: a, upper: b)
    }

    /// CDF of Gamma(shape, 1): the regularised lower incomplete gamma P(shape, x).
    static func gammaCDF(_ x: Double, shape: Double) -> Double {
        x <= 0 ? 0 : gsl_sf_gamma_inc_P(shape, x)
    }
}
