import Foundation

/// `optax.chain(clip_by_global_norm(max_grad_norm), adam(learning_rate))`,
/// written out: the optimizer of every training and tuning loop.
///
/// The state covers every path of the tree it was initialised on. For the
/// weight-tuning methods the original initialises and updates the state for
/// the whole parameter tree (so the clipping norm includes the gradients of
/// frozen parameters) and only then applies the update to a subset; `step`
/// takes that subset as a predicate. See Docs/optimizer.md.
public struct ClippedAdam: Sendable {
    /// Adam's hyper-parameters (optax defaults).
    public struct Hyperparameters: Equatable, Sendable {
        public var learningRate: Double
        public var maxGradNorm: Double
        public var b1: Double = 0.9
        public var b2: Double = 0.999
        public var eps: Double = 1e-8
        public var epsRoot: Double = 0

        public init(learningRate: Double, maxGradNorm: Double,
                    b1: Double = 0.9, b2: Double = 0.999, eps: Double = 1e-8, epsRoot: Double = 0) {
            self.learningRate = learningRate
            self.maxGradNorm = maxGradNorm
            self.b1 = b1
            self.b2 = b2
            self.eps = eps
            self.epsRoot = epsRoot
        }
    }

    public let hyperparameters: Hyperparameters
    /// First moments, one per path.
    public private(set) var firstMoment: ParameterTree
    /// Second moments, one per path.
    public private(set) var secondMoment: ParameterTree
    /// Number of steps taken so far (optax's `count`).
    public private(set) var stepCount: Int = 0

    /// Zero state over the paths and shapes of `tree`.
    public init(_ hyperparameters: Hyperparameters, over tree: ParameterTree) {
        self.hyperparameters = hyperparameters
        firstMoment = tree.zerosLike()
        secondMoment = tree.zerosLike()
    }

    /// One optimizer step.
    ///
    /// 1. `n = globalNorm(grads)`; if `n >= max_grad_norm` every gradient is
    ///    replaced by `(g / n) * max_grad_norm` (optax's order of operations).
    /// 2. `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`, `t += 1`.
    /// 3. `update = -lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t) + eps_root) + eps)`,
    ///    added to `params` only at paths where `moves(path)` is true.
    ///
    /// - Returns: the unclipped global gradient norm `n`.
    @discardableResult
    public mutating func step(params: inout ParameterTree, grads: ParameterTree,
                              moves: (String) -> Bool = { _ in true }) -> Double {
        let h = hyperparameters
        let norm = grads.globalNorm()
        let clip = !(norm < h.maxGradNorm)
        stepCount += 1
        let t = Double(stepCount)
        let firstCorrection = 1 - pow(h.b1, t)
        let secondCorrection = 1 - pow(h.b2, t)
        for path in grads.paths {
            let g = grads[path]
            var m = firstMoment[path], v = secondMoment[path]
            let applies = moves(path)
            var p = applies ? params[path] : Tensor(shape: [0])
            precondition(m.count == g.count && v.count == g.count && (!applies || p.count == g.count),
                         "optimizer state, gradient and parameter at '\(path)' differ in size")
            // Through pointers, so that the loop vectorises (no per-element
            // uniqueness or bounds checks); the same expression per element.
            // pP is read only where the method moves the path.
            g.withPointer { gP in m.withMutablePointer { mP in v.withMutablePointer { vP in p.withMutablePointer { pP in
                for i in 0..<g.count {
                    let gi = clip ? (gP[i] / norm) * h.maxGradNorm : gP[i]
                    mP[i] = (1 - h.b1) * gi + h.b1 * mP[i]
                    vP[i] = (1 - h.b2) * gi * gi + h.b2 * vP[i]
                    if applies {
                        let mHat = mP[i] / firstCorrection
                        let vHat = vP[i] / secondCorrection
                        pP[i] += -h.learningRate * (mHat / ((vHat + h.epsRoot).squareRoot() + h.eps))
                    }
                }
            }}}}
            firstMoment[path] = m
            secondMoment[path] = v
            if applies { params[path] = p }
        }
        return norm
    }
}
