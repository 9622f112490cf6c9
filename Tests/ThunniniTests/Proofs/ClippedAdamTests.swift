import Foundation
@testable import Thunnini
import Testing

/// `ClippedAdam` against a straight-line reference written here from the
/// definitions of `optax.clip_by_global_norm` and `optax.adam`
/// (Docs/optimizer.md): norm over every entry of the whole gradient tree,
/// `g` kept when `norm < max` and else replaced by `(g / norm) * max`,
/// moments with bias correction from t = 1, `eps_root` inside the square
/// root, and the update added only where the method moves the parameter.
@Suite("Proofs: ClippedAdam")
struct ClippedAdamTests {
    /// A flat, ordered stand-in for a parameter tree: (path, entries) in
    /// sorted path order, so sums run in the same order as the library's.
    typealias Flat = [(path: String, values: [Double])]

    /// The reference optimizer state.
    struct Reference {
        var learningRate: Double, maxGradNorm: Double
        var b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0.0
        var m: [String: [Double]] = [:], v: [String: [Double]] = [:]
        var t = 0

        /// One step; returns the unclipped norm.
        mutating func step(params: inout [String: [Double]], grads: Flat, moves: (String) -> Bool) -> Double {
            var sumOfSquares = 0.0
            for (_, values) in grads { for g in values { sumOfSquares += g * g } }
            let norm = sumOfSquares.squareRoot()
            t += 1
            for (path, values) in grads {
                var mPath = m[path] ?? [Double](repeating: 0, count: values.count)
                var vPath = v[path] ?? [Double](repeating: 0, count: values.count)
                for i in values.indices {
                    let g = norm < maxGradNorm ? values[i] : (values[i] / norm) * maxGradNorm
                    mPath[i] = (1 - b1) * g + b1 * mPath[i]
                    vPath[i] = (1 - b2) * g * g + b2 * vPath[i]
                    if moves(path) {
                        var firstCorrection = 1.0, secondCorrection = 1.0
                        for _ in 0..<t { firstCorrection *= b1; secondCorrection *= b2 }
                        let mHat = mPath[i] / (1 - firstCorrection)
                        let vHat = vPath[i] / (1 - secondCorrection)
                        params[path]![i] -= learningRate * mHat / ((vHat + epsRoot).squareRoot() + eps)
                    }
                }
                m[path] = mPath
                v[path] = vPath
            }
            return norm
        }
    }

    static func tree(_ flat: Flat, shapes: [String: [Int]]) -> ParameterTree {
        ParameterTree(Dictionary(uniqueKeysWithValues: flat.map { ($0.path, Tensor(shape: shapes[$0.path]!, storage: $0.values)) }))
    }

    static let shapes = ["a/kernel": [2, 2], "b/bias": [2], "frozen/w": [3]]
    static let initial: Flat = [("a/kernel", [0.3, -0.7, 1.1, 0.07]), ("b/bias", [-0.2, 0.4]), ("frozen/w", [0.9, -0.6, 0.1])]
    static func movesExceptFrozen(_ path: String) -> Bool { !path.hasPrefix("frozen") }

    /// Three gradient trees: the first has norm ~3.4 (clipped to 1), the
    /// second ~0.38 (not clipped), the third ~1.9 mostly from the frozen
    /// subtree (clipped, with the frozen part dominating the norm).
    static let gradients: [Flat] = [
        [("a/kernel", [1.5, -0.25, 0.75, 2.0]), ("b/bias", [-1.0, 0.5]), ("frozen/w", [0.3, -1.2, 1.6])],
        [("a/kernel", [0.1, 0.2, -0.05, 0.15]), ("b/bias", [0.2, -0.1]), ("frozen/w", [0.0, 0.1, -0.15])],
        [("a/kernel", [0.02, -0.4, 0.3, 0.01]), ("b/bias", [0.05, 0.6]), ("frozen/w", [1.4, 0.9, -0.8])],
    ]

    /// Equal to rounding: the reference forms b^t by repeated products and
    /// the library by `pow`, which may differ in the last bit.
    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 2e-15 * max(abs(a), abs(b)) + 1e-17 }

    /// Three steps of clip + Adam with a frozen subtree: parameters, both
    /// moments and the reported norms agree with the reference to rounding
    /// (the reference forms b^t by repeated products, the library by pow).
    /// Catches: a norm over the moved subset only (moments and updates of
    /// steps 1 and 3 change by the norm ratio), clipping with `>` instead of
    /// `>=` is covered by `normExactlyAtThresholdIsClipped`, a frozen path
    /// that moves, moments not updated on frozen paths, bias correction off
    /// by one step.
    @Test func threeStepsWithAFrozenSubtreeMatchTheReference() {
        let hyper = ClippedAdam.Hyperparameters(learningRate: 0.05, maxGradNorm: 1)
        var optimizer = ClippedAdam(hyper, over: Self.tree(Self.initial, shapes: Self.shapes))
        var reference = Reference(learningRate: 0.05, maxGradNorm: 1)
        var params = Self.tree(Self.initial, shapes: Self.shapes)
        var referenceParams = Dictionary(uniqueKeysWithValues: Self.initial.map { ($0.path, $0.values) })
        var norms: [Double] = []
        for grads in Self.gradients {
            let norm = optimizer.step(params: &params, grads: Self.tree(grads, shapes: Self.shapes), moves: Self.movesExceptFrozen)
            let referenceNorm = reference.step(params: &referenceParams, grads: grads, moves: Self.movesExceptFrozen)
            #expect(norm == referenceNorm)
            norms.append(norm)
            for (path, _) in Self.initial {
                for i in 0..<referenceParams[path]!.count {
                    #expect(Self.close(params[path].storage[i], referenceParams[path]![i]), "\(path)[\(i)] params")
                    #expect(Self.close(optimizer.firstMoment[path].storage[i], reference.m[path]![i]), "\(path)[\(i)] m")
                    #expect(Self.close(optimizer.secondMoment[path].storage[i], reference.v[path]![i]), "\(path)[\(i)] v")
                }
            }
        }
        #expect(norms[0] > 1 && norms[1] < 1 && norms[2] > 1, "the steps must cover both branches: \(norms)")
        #expect(optimizer.stepCount == 3)
        // The frozen subtree never moves, bit for bit, but its moments do.
        #expect(params["frozen/w"].storage == [0.9, -0.6, 0.1])
        #expect(optimizer.firstMoment["frozen/w"].storage.allSatisfy { $0 != 0 })
        // The frozen gradient counts in the norm: after step 1, m of a moved
        // entry is (1 - b1) g / n_all, not (1 - b1) g / n_moved.
        let first = Self.gradients[0]
        let normAll = (first.flatMap(\.values).reduce(0) { $0 + $1 * $1 }).squareRoot()
        let normMoved = (first.filter { Self.movesExceptFrozen($0.path) }.flatMap(\.values).reduce(0) { $0 + $1 * $1 }).squareRoot()
        var check = ClippedAdam(hyper, over: Self.tree(Self.initial, shapes: Self.shapes))
        var scratch = Self.tree(Self.initial, shapes: Self.shapes)
        check.step(params: &scratch, grads: Self.tree(first, shapes: Self.shapes), moves: Self.movesExceptFrozen)
        let m0 = check.firstMoment["a/kernel"].storage[0]
        #expect(Self.close(m0, 0.1 * (1.5 / normAll)))
        #expect(abs(m0 - 0.1 * (1.5 / normMoved)) > 1e-3, "moved-only norm would give \(0.1 * 1.5 / normMoved)")
    }

    /// Hand-derived: with a constant gradient g and no clipping, bias
    /// correction makes m_hat = g and v_hat = g^2 at every step, so every
    /// update is exactly -lr g / (|g| + eps). Without bias correction the
    /// first update would be -lr 0.1 g / (sqrt(0.001) |g| + eps), about 3.16 lr.
    @Test func constantGradientGivesSignStepsFromTheFirstStep() {
        let g = 0.5, lr = 0.1
        let hyper = ClippedAdam.Hyperparameters(learningRate: lr, maxGradNorm: 10)
        var params = ParameterTree(["w": Tensor(shape: [1], storage: [2])])
        var optimizer = ClippedAdam(hyper, over: params)
        var expected = 2.0
        for step in 1...3 {
            optimizer.step(params: &params, grads: ParameterTree(["w": Tensor(shape: [1], storage: [g])]))
            expected -= lr * g / (g + 1e-8)
            #expect(abs(params["w"].storage[0] - expected) <= 1e-15, "step \(step): \(params["w"].storage[0]) vs \(expected)")
        }
    }

    /// optax clips when `norm >= max` (it keeps g only for `norm < max`), so
    /// a norm exactly at the threshold goes through `(g / n) * max`, which
    /// for these entries is not g bit for bit; the first moment after one
    /// step, (1 - b1) times the clipped gradient, shows which branch ran
    /// (1 - b1 is 0.09999999999999998 in float64, as in the library).
    @Test func normExactlyAtThresholdIsClipped() {
        let gradient = ParameterTree(["a": Tensor(shape: [2], storage: [0.52, -1.0]), "b": Tensor(shape: [2], storage: [-0.11, 0.44])])
        let norm = gradient.globalNorm()
        var optimizer = ClippedAdam(.init(learningRate: 0.1, maxGradNorm: norm), over: gradient.zerosLike())
        var params = gradient.zerosLike()
        #expect(optimizer.step(params: &params, grads: gradient) == norm)
        let b = gradient["b"].storage
        let clipped = b.map { (1 - 0.9) * (($0 / norm) * norm) }, unclipped = b.map { (1 - 0.9) * $0 }
        #expect(clipped != unclipped, "the entries must make the two branches differ, else the test proves nothing")
        #expect(optimizer.firstMoment["b"].storage == clipped)
    }

    /// eps_root sits inside the square root: u = -lr m_hat / (sqrt(v_hat +
    /// eps_root) + eps). With g = 1e-3 and eps_root = 1e-4 the first update
    /// is -lr 1e-3 / (sqrt(1e-6 + 1e-4) + 1e-8), about 0.0995 lr, where
    /// eps_root outside the root (or ignored) gives about lr.
    @Test func epsRootIsInsideTheSquareRoot() {
        let g = 1e-3, lr = 0.1
        var params = ParameterTree(["w": Tensor(shape: [1], storage: [0])])
        var optimizer = ClippedAdam(.init(learningRate: lr, maxGradNorm: 1, epsRoot: 1e-4), over: params)
        optimizer.step(params: &params, grads: ParameterTree(["w": Tensor(shape: [1], storage: [g])]))
        let expected = -lr * g / ((g * g + 1e-4).squareRoot() + 1e-8)
        #expect(abs(params["w"].storage[0] - expected) <= 1e-17, "\(params["w"].storage[0]) vs \(expected)")
        #expect(abs(expected + 0.00995) < 1e-5)
        var reference = Reference(learningRate: lr, maxGradNorm: 1, epsRoot: 1e-4)
        var referenceParams = ["w": [0.0]]
        for step in 2...3 {
            let grads: Flat = [("w", [g * Double(step)])]
            if step == 2 {
                // Bring the reference to the library's state after step 1.
                _ = reference.step(params: &referenceParams, grads: [("w", [g])], moves: { _ in true })
            }
            optimizer.step(params: &params, grads: Self.tree(grads, shapes: ["w": [1]]))
            _ = reference.step(params: &referenceParams, grads: grads, moves: { _ in true })
            #expect(Self.close(params["w"].storage[0], referenceParams["w"]![0]))
        }
    }
}
