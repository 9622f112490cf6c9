import Foundation

/// GELU activation, tanh approximation (Flax's `nn.gelu` default):
/// `y = 0.5 x (1 + tanh(u))`, `u = sqrt(2/pi) (x + 0.044715 x^3)`.
/// See Docs/layers.md, "GELU".
public enum GELU {
    /// sqrt(2 / pi).
    static let sqrtTwoOverPi = (2.0 / Double.pi).squareRoot()
    /// Coefficient of the cubic term.
    static let cubicCoefficient = 0.044715

    /// Element-wise GELU: the scalar reference kernel (`forwardFast` is its
    /// bit-identical twin).
    public static func forwardReference(_ x: Tensor) -> Tensor {
        var y = x
        for index in 0..<x.count {
            let v = x.storage[index]
            let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
            y.storage[index] = 0.5 * v * (1 + Elementary.tanh(u))
        }
        return y
    }

    /// Vector-Jacobian product: `dx = dy * (0.5 (1 + t) + 0.5 x (1 - t^2) du/dx)`
    /// with `t = tanh(u)` and `du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2)`.
    /// The scalar reference kernel (`backwardFast` is its bit-identical twin).
    public static func backwardReference(_ dy: Tensor, x: Tensor) -> Tensor {
        precondition(dy.shape == x.shape, "GELU upstream gradient \(dy.shape) != input \(x.shape)")
        var dx = x
        for index in 0..<x.count {
            let v = x.storage[index]
            let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
            let t = Elementary.tanh(u)
            let duDx = sqrtTwoOverPi * (1 + 3 * cubicCoefficient * v * v)
            let derivative = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * duDx
            dx.storage[index] = dy.storage[index] * derivative
        }
        return dx
    }

    /// `forwardFast`, or `forwardReference` under `KernelMode.useReferenceKernels`.
    public static func forward(_ x: Tensor) -> Tensor {
        KernelMode.useReferenceKernels ? forwardReference(x) : forwardFast(x)
    }

    /// `backwardFast`, or `backwardReference` under `KernelMode.useReferenceKernels`.
    public static func backward(_ dy: Tensor, x: Tensor) -> Tensor {
        KernelMode.useReferenceKernels ? backwardReference(dy, x: x) : backwardFast(dy, x: x)
    }

    /// Fast twin of `forwardReference`: the same expression on sixteen
    /// elements at a time (`forEachVector`), so the same bits.
    public static func forwardFast(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape) { yP in x.withPointer { xP in
            forEachVector(count: x.count, into: yP) { load in
                let v = load(xP)
                let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
                return 0.5 * v * (1 + Elementary.tanh(u))
            }
        }}
    }

    /// Fast twin of `backwardReference` (the same expression, sixteen at a time).
    public static func backwardFast(_ dy: Tensor, x: Tensor) -> Tensor {
        precondition(dy.shape == x.shape, "GELU upstream gradient \(dy.shape) != input \(x.shape)")
        return Tensor(shape: x.shape) { dxP in x.withPointer { xP in dy.withPointer { dyP in
            forEachVector(count: x.count, into: dxP) { load in
                let v = load(xP)
                let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
                let t = Elementary.tanh(u)
                let duDx = sqrtTwoOverPi * (1 + 3 * cubicCoefficient * v * v)
                let derivative = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * duDx
                return load(dyP) * derivative
            }
        }}}
    }

    /// Writes `output[i]` for every `i < count` from `compute`, which reads
    /// its inputs with `load(buffer)` as sixteen-lane vectors (the width of
    /// `Elementary`): whole vectors, then the last fewer than sixteen
    /// elements zero-padded. Lanes are independent, so every element gets
    /// the bits of the per-element expression. Chunks of vectors run on
    /// separate threads.
    @inline(__always)
    static func forEachVector(count: Int, into output: UnsafeMutablePointer<Double>,
                              _ compute: (_ load: (UnsafePointer<Double>) -> Elementary.Vector) -> Elementary.Vector) {
        let out = SharedPointer(output)
        Parallel.forEachChunk(of: (count + 15) / 16, minimumPerChunk: 1024) { groups in
            // Whole vectors with plain loads and stores; the compiler keeps
            // the padded tail's per-lane copies out of this loop.
            let whole = min(groups.upperBound, count / 16)
            var group = groups.lowerBound
            while group < whole {
                let index = group * 16
                let result = compute { buffer in UnsafeRawPointer(buffer + index).loadUnaligned(as: Elementary.Vector.self) }
                UnsafeMutableRawPointer(out.base + index).storeBytes(of: result, as: Elementary.Vector.self)
                group += 1
            }
            if group < groups.upperBound {
                let index = group * 16
                let lanes = count - index
                let result = compute { buffer in
                    var padded = Elementary.Vector()
                    for lane in 0..<lanes { padded[lane] = buffer[index + lane] }
                    return padded
                }
                for lane in 0..<lanes { out.base[index + lane] = result[lane] }
            }
        }
    }
}
