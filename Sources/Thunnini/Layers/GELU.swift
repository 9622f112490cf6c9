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
            let (yP, tP) = (SharedPointer(pointers[0]), SharedPointer(pointers[1]))
            x.withPointer { xP in
                forEachSlot(count: x.count) { slot in
                    let v = slot.load(xP)
                    let t = tanhOfU(v)
                    slot.store(output(x: v, tanhOfU: t), yP.base)
                    slot.store(t, tP.base)
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
        return Tensor(shape: x.shape) { dxPointer in x.withPointer { xP in dy.withPointer { dyP in tanhOfU.withPointer { tP in
            let dxP = SharedPointer(dxPointer)
            forEachSlot(count: x.count) { slot in
                slot.store(slot.load(dyP) * derivative(x: slot.load(xP), tanhOfU: slot.load(tP)), dxP.base)
            }
        }}}}
    }

    /// Fast twin of `forwardReference`: the same expression on sixteen
    /// elements at a time (`Elementary.Slot`), so the same bits.
    public static func forwardFast(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape) { yPointer in x.withPointer { xP in
            let yP = SharedPointer(yPointer)
            forEachSlot(count: x.count) { slot in
                let v = slot.load(xP)
                slot.store(output(x: v, tanhOfU: tanhOfU(v)), yP.base)
            }
        }}
    }

    /// Fast twin of `backwardReference` (the same expression, sixteen at a time).
    public static func backwardFast(_ dy: Tensor, x: Tensor) -> Tensor {
        precondition(dy.shape == x.shape, "GELU upstream gradient \(dy.shape) != input \(x.shape)")
        return Tensor(shape: x.shape) { dxPointer in x.withPointer { xP in dy.withPointer { dyP in
            let dxP = SharedPointer(dxPointer)
            forEachSlot(count: x.count) { slot in
                let v = slot.load(xP)
                slot.store(slot.load(dyP) * derivative(x: v, tanhOfU: tanhOfU(v)), dxP.base)
            }
        }}}
    }

    /// `tanh(u)`, `u = sqrt(2/pi) (x + 0.044715 x^3)`, in `forwardReference`'s order.
    @inline(__always)
    static func tanhOfU(_ v: Elementary.Vector) -> Elementary.Vector {
        Elementary.tanh(sqrtTwoOverPi * (v + cubicCoefficient * v * v * v))
    }

    /// `0.5 x (1 + t)`, in `forwardReference`'s order.
    @inline(__always)
    static func output(x v: Elementary.Vector, tanhOfU t: Elementary.Vector) -> Elementary.Vector {
        0.5 * v * (1 + t)
    }

    /// dGELU/dx from x and t = tanh(u), in `backwardReference`'s order.
    @inline(__always)
    static func derivative(x v: Elementary.Vector, tanhOfU t: Elementary.Vector) -> Elementary.Vector {
        let duDx = sqrtTwoOverPi * (1 + 3 * cubicCoefficient * v * v)
        return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * duDx
    }

    /// Runs `body` on every `Elementary.Slot` of `count` elements, in
    /// parallel chunks of slots; `body` is inlined into each chunk's loop.
    @inline(__always)
    static func forEachSlot(count: Int, _ body: (Elementary.Slot) -> Void) {
        Parallel.forEachChunk(of: Elementary.Slot.count(count), minimumPerChunk: 1024) { slots in
            Elementary.Slot.forEach(slots, count: count, body)
        }
    }
}
