import CGSL
import Foundation

/// The GSL special functions behind the exact Bayesian quantities, with GSL's
/// default error handler (which aborts the process) switched off.
///
/// Callers only pass arguments where the functions are finite (positive
/// arguments of lnΓ and ψ); a GSL failure is reported as NaN rather than a
/// crash, and a NaN propagates into the result where a test or the CLI
/// catches it.
enum SpecialFunctions {
    /// Switches GSL's abort-on-error handler off exactly once.
    private static let errorHandlerOff: Void = {
        gsl_set_error_handler_off()
    }()

    /// ln Γ(x) for x > 0.
    static func lnGamma(_ x: Double) -> Double {
        _ = errorHandlerOff
        var result = gsl_sf_result()
        return gsl_sf_lngamma_e(x, &result) == GSL_SUCCESS ? result.val : .nan
    }

    /// ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b) for a, b > 0.
    static func lnBeta(_ a: Double, _ b: Double) -> Double {
        _ = errorHandlerOff
        var result = gsl_sf_result()
        return gsl_sf_lnbeta_e(a, b, &result) == GSL_SUCCESS ? result.val : .nan
    }

    /// The digamma function ψ(x) = d/dx ln Γ(x), for x > 0.
    static func digamma(_ x: Double) -> Double {
        _ = errorHandlerOff
        var result = gsl_sf_result()
        return gsl_sf_psi_e(x, &result) == GSL_SUCCESS ? result.val : .nan
    }

    /// ln of the multinomial coefficient n! / (m_1! ... m_V!), n = sum of m.
    static func lnMultinomial(_ counts: [Int]) -> Double {
        var total = 0
        var value = 0.0
        for m in counts {
            total += m
            value -= lnGamma(Double(m) + 1)
        }
        return value + lnGamma(Double(total) + 1)
    }
}

/// log(sum_i exp(values[i])), stable; -inf when every value is -inf (an
/// empty sum), never NaN for finite-or-minus-infinity inputs.
func logSumExp(_ values: [Double]) -> Double {
    var largest = -Double.infinity
    for value in values where value > largest { largest = value }
    if largest == -.infinity { return -.infinity }
    if largest == .infinity { return .infinity }
    var sum = 0.0
    for value in values { sum += exp(value - largest) }
    return largest + log(sum)
}

/// `count * log(probability)` with the convention 0 * log 0 = 0: a token that
/// was never seen contributes nothing, even when its probability is zero.
@inline(__always)
func countTimesLog(_ count: Double, _ logProbability: Double) -> Double {
    count == 0 ? 0 : count * logProbability
}
