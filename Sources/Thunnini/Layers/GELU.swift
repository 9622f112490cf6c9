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

    /// The output and, for the backward pass, `tanh(u)` of every element
    /// (nil under `KernelMode.useReferenceKernels`, whose backward kernel
    /// recomputes it): computing tanh once per training step instead of in
    /// both passes. The output has the bits of `forward(x)`.
    public static func forwardKeepingTanh(_ x: Tensor) -> (output: Tensor, tanhOfU: Tensor?) {
        if KernelMode.useReferenceKernels { return (forwardReference(x), nil) }
        let outputs = Tensor.writingEveryElement(shapes: [x.shape, x.shape]) { pointers in
            let (yP, tP) = (pointers[0], pointers[1])
            x.withPointer { xP in
                forEachVector(count: x.count) { load, store in
                    let v = load(xP)
                    let t = Elementary.tanh(sqrtTwoOverPi * (v + cubicCoefficient * v * v * v))
                    store(0.5 * v * (1 + t), yP)
                    store(t, tP)
                }
            }
        }
        return (outputs[0], outputs[1])
    }

    /// `backward(dy, x: x)` given the `tanhOfU` that `forwardKeepingTanh(x)`
    /// returned: the same bits, since that is the t the scalar kernel
    /// recomputes (the same expression in the same order).
    public static func backward(_ dy: Tensor, x: Tensor, tanhOfU: Tensor?) -> Tensor {
        guard let tanhOfU, !KernelMode.useReferenceKernels else { return backward(dy, x: x) }
        precondition(dy.shape == x.shape && tanhOfU.shape == x.shape,
                     "GELU upstream gradient \(dy.shape) and tanh \(tanhOfU.shape) != input \(x.shape)")
        return Tensor(shape: x.shape) { dxP in x.withPointer { xP in dy.withPointer { dyP in tanhOfU.withPointer { tP in
            forEachVector(count: x.count) { load, store in
                store(load(dyP) * derivative(x: load(xP), tanhOfU: load(tP)), dxP)
            }
        }}}}
    }

    /// Fast twin of `forwardReference`: the same expression on sixteen
    /// elements at a time (`forEachVector`), so the same bits.
    public static func forwardFast(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape) { yP in x.withPointer { xP in
            forEachVector(count: x.count) { load, store in
                let v = load(xP)
                let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
                store(0.5 * v * (1 + Elementary.tanh(u)), yP)
            }
        }}
    }

    /// Fast twin of `backwardReference` (the same expression, sixteen at a time).
    public static func backwardFast(_ dy: Tensor, x: Tensor) -> Tensor {
        precondition(dy.shape == x.shape, "GELU upstream gradient \(dy.shape) != input \(x.shape)")
        return Tensor(shape: x.shape) { dxP in x.withPointer { xP in dy.withPointer { dyP in
            forEachVector(count: x.count) { load, store in
                let v = load(xP)
                let t = Elementary.tanh(sqrtTwoOverPi * (v + cubicCoefficient * v * v * v))
                store(load(dyP) * derivative(x: v, tanhOfU: t), dxP)
            }
        }}}
    }

    /// dGELU/dx from x and t = tanh(u), in `backwardReference`'s order.
    @inline(__always)
    static func derivative(x v: Elementary.Vector, tanhOfU t: Elementary.Vector) -> Elementary.Vector {
        let duDx = sqrtTwoOverPi * (1 + 3 * cubicCoefficient * v * v)
        return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * duDx
    }

    /// Runs `compute` on every group of sixteen elements: it reads its inputs
    /// with `load(buffer)` and writes its outputs with `store(value, buffer)`,
    /// as sixteen-lane vectors (the width of `Elementary`): whole vectors,
    /// then the last fewer than sixteen elements zero-padded (only their
    /// lanes are stored). Lanes are independent, so every element gets the
    /// bits of the per-element expression. Chunks of vectors run on separate
    /// threads.
    @inline(__always)
    static func forEachVector(count: Int, _ compute: (_ load: (UnsafePointer<Double>) -> Elementary.Vector,
                                                      _ store: (Elementary.Vector, UnsafeMutablePointer<Double>) -> Void) -> Void) {
        Parallel.forEachChunk(of: (count + 15) / 16, minimumPerChunk: 1024) { groups in
            // Whole vectors with plain loads and stores; the compiler keeps
            // the padded tail's per-lane copies out of this loop.
            let whole = min(groups.upperBound, count / 16)
            var group = groups.lowerBound
            while group < whole {
                let index = group * 16
                compute({ buffer in UnsafeRawPointer(buffer + index).loadUnaligned(as: Elementary.Vector.self) },
                        { value, buffer in UnsafeMutableRawPointer(buffer + index).storeBytes(of: value, as: Elementary.Vector.self) })
                group += 1
            }
            if group < groups.upperBound {
                let index = group * 16
                let lanes = count - index
                compute({ buffer in
                    var padded = Elementary.Vector()
                    for lane in 0..<lanes { padded[lane] = buffer[index + lane] }
                    return padded
                }, { value, buffer in
                    for lane in 0..<lanes { buffer[index + lane] = value[lane] }
                })
            }
        }
    }
}
