import Testing
@testable import Thunnini

/// Finite-difference check of analytic gradients, shared by every layer test.
///
/// For each named tensor and each checked coordinate it perturbs that one
/// coordinate and estimates the derivative of the scalar function with the
/// fourth-order central difference
/// `n = (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / (12 h)`
/// (truncation error O(h^4) times the fifth derivative; rounding noise about
/// 1e-16 |f| / h, i.e. ~1e-11 for the test losses at h = 1e-4). h = 1e-3 was
/// too coarse for the two-layer transformer with q/k LayerNorm on a 4-wide
/// embedding (relative errors ~1e-5 that fell below 1e-8 at h = 1e-4:
/// curvature, not a wrong gradient), hence 1e-4.
/// It then asserts `|a - n| / max(|a|, |n|, absoluteFloor) <= tolerance`:
/// a relative error for gradients of size >= `absoluteFloor` = 1e-4 and an
/// absolute error of `tolerance * absoluteFloor` = 1e-10 below it (tiny
/// gradients cannot be resolved relatively by any difference quotient).
/// On the layer tests the largest error seen is ~2e-8, far inside 1e-6.
/// Failures name the layer, the parameter and the multi-index.
enum GradientCheck {
    /// Largest accepted relative error.
    static let tolerance = 1e-6
    /// Floor of the denominator (see the type's doc).
    static let absoluteFloor = 1e-4
    /// Perturbation h.
    static let step = 1e-4
    /// Tensors with at most this many elements are checked at every
    /// coordinate; larger ones at an evenly strided subset of this size.
    static let maxCoordinatesPerTensor = 600
    /// At most this many failing coordinates are reported per tensor.
    static let maxReportedFailures = 5

    /// Checks `analytic[name]` against finite differences of `function` for
    /// every `(name, value)` in `inputs` (the point of evaluation). Returns the
    /// largest relative error seen.
    @discardableResult
    /// Failures go to `report` when given (the helper's own tests), else they
    /// are recorded as test issues.
    static func check(layer: String, inputs: [(String, Tensor)], analytic: [String: Tensor],
                      sourceLocation: SourceLocation = #_sourceLocation,
                      report: ((String) -> Void)? = nil,
                      function: ([String: Tensor]) -> Double) -> Double {
        func fail(_ message: String) {
            if let report { report(message) } else { Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation) }
        }
        let point = Dictionary(uniqueKeysWithValues: inputs)
        var worst = 0.0
        for (name, value) in inputs {
            guard let gradient = analytic[name] else {
                fail("\(layer): no analytic gradient for '\(name)'")
                continue
            }
            guard gradient.shape == value.shape else {
                fail("\(layer): gradient of '\(name)' has shape \(gradient.shape), parameter \(value.shape)")
                continue
            }
            let stride = Swift.max(1, (value.count + maxCoordinatesPerTensor - 1) / maxCoordinatesPerTensor)
            var failures = 0
            for flat in Swift.stride(from: 0, to: value.count, by: stride) {
                func evaluate(_ offset: Double) -> Double {
                    var perturbed = point
                    perturbed[name]!.storage[flat] += offset
                    return function(perturbed)
                }
                let h = step
                let numeric = (evaluate(-2 * h) - 8 * evaluate(-h) + 8 * evaluate(h) - evaluate(2 * h)) / (12 * h)
                let analyticValue = gradient.storage[flat]
                let denominator = Swift.max(Swift.abs(analyticValue), Swift.abs(numeric), absoluteFloor)
                let error = Swift.abs(analyticValue - numeric) / denominator
                worst = Swift.max(worst, error)
                if !(error <= tolerance) {
                    failures += 1
                    if failures <= maxReportedFailures {
                        fail("""
                            \(layer): gradient of '\(name)' at \(multiIndex(flat, shape: value.shape)): \
                            analytic \(analyticValue), numeric \(numeric), relative error \(error) > \(tolerance)
                            """)
                    }
                }
            }
            if failures > maxReportedFailures {
                fail("\(layer): '\(name)' has \(failures) failing coordinates in all")
            }
        }
        return worst
    }

    /// Single-tensor form of `check(layer:inputs:analytic:function:)`.
    @discardableResult
    static func check(layer: String, parameter: String, at value: Tensor, analytic: Tensor,
                      sourceLocation: SourceLocation = #_sourceLocation,
                      report: ((String) -> Void)? = nil,
                      function: (Tensor) -> Double) -> Double {
        check(layer: layer, inputs: [(parameter, value)], analytic: [parameter: analytic],
              sourceLocation: sourceLocation, report: report) { function($0[parameter]!) }
    }

    /// Row-major multi-index of a flat offset (the library's, shared with `ArrayComparison`).
    static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
        ArrayComparison.multiIndex(flat, shape: shape)
    }
}
