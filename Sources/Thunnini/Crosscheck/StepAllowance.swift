import Foundation

/// How far a float32 reference's parameters after S optimizer steps may
/// legitimately be from an exact computation, given the reference's own
/// declared gradient tolerance. See Docs/crosscheck.md, "After-step arrays".
///
/// Adam divides by `sqrt(v_hat) + eps`, so an error `delta` in a gradient
/// changes the step by up to `|d u / d g| * delta`, and for a gradient that is
/// exactly zero (a float32 reference then holds rounding noise of ~1e-8) the
/// step is `lr * noise / (|noise| + eps)`: anything up to `lr`. For element i
/// of a moving parameter, with our clipped gradients `g_j`, clip factors
/// `c_j` and the bundle's gradient tolerance `d_j = c_j (atol + rtol |raw g_j|)`:
///
///     allowance_S = sum_{s <= S} min( sum_{j <= s} |d u_s / d g_j| d_j,  2 lr kappa_s )
///     d u_s / d g_j = lr [ w_sj / D_s - m_hat_s w'_sj g_j / (sqrt(v_hat_s) D_s^2) ]
///
/// where `w_sj = (1-b1) b1^(s-j) / (1-b1^s)`, `w'_sj = (1-b2) b2^(s-j) / (1-b2^s)`,
/// `D_s = sqrt(v_hat_s) + eps`, and `lr kappa_s` with
/// `kappa_s = sqrt(sum_j w_sj^2 / w'_sj)` bounds |u_s| for any gradients
/// (Cauchy–Schwarz), so two steps never differ by more than `2 lr kappa_s`.
struct StepAllowance {
    let hyperparameters: ClippedAdam.Hyperparameters
    let gradientTolerance: Tolerance
    /// Per step: the unclipped gradients and the clip factor.
    private(set) var steps: [(gradients: ParameterTree, clipScale: Double)] = []

    init(hyperparameters: ClippedAdam.Hyperparameters, gradientTolerance: Tolerance) {
        self.hyperparameters = hyperparameters
        self.gradientTolerance = gradientTolerance
    }

    mutating func record(gradients: ParameterTree, clipScale: Double) {
        steps.append((gradients, clipScale))
    }

    /// The allowance for `path` after the first `count` recorded steps.
    func allowance(path: String, afterSteps count: Int) -> Tensor {
        let h = hyperparameters
        let shape = steps[0].gradients[path].shape
        var result = Tensor(shape: shape)
        for i in 0..<result.count {
            let g = (0..<count).map { steps[$0].gradients[path].storage[i] * steps[$0].clipScale }
            let delta = (0..<count).map { j in
                steps[j].clipScale * (gradientTolerance.atol + gradientTolerance.rtol * abs(steps[j].gradients[path].storage[i]))
            }
            var total = 0.0
            for s in 1...count {
                let firstCorrection = 1 - pow(h.b1, Double(s)), secondCorrection = 1 - pow(h.b2, Double(s))
                var m = 0.0, v = 0.0, kappaSquared = 0.0
                var w = [Double](repeating: 0, count: s), w2 = [Double](repeating: 0, count: s)
                for j in 0..<s {
                    w[j] = (1 - h.b1) * pow(h.b1, Double(s - 1 - j)) / firstCorrection
                    w2[j] = (1 - h.b2) * pow(h.b2, Double(s - 1 - j)) / secondCorrection
                    m += w[j] * g[j]
                    v += w2[j] * g[j] * g[j]
                    kappaSquared += w[j] * w[j] / w2[j]
                }
                let root = (v + h.epsRoot).squareRoot()
                let d = root + h.eps
                var linear = 0.0
                for j in 0..<s {
                    let secondTerm = root > 0 ? m * w2[j] * g[j] / (root * d * d) : 0
                    linear += abs(h.learningRate * (w[j] / d - secondTerm)) * delta[j]
                }
                total += min(linear, 2 * h.learningRate * kappaSquared.squareRoot())
            }
            result.storage[i] = total
        }
        return result
    }
}
