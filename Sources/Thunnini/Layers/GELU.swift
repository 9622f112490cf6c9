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
                Parallel.forEachChunk(of: VectorSlot.groups(x.count), minimumPerChunk: 1024) { groups in
                    VectorSlot.forEach(groups, count: x.count) { slot in
                        let v = slot.load(xP)
                        let t = Elementary.tanh(sqrtTwoOverPi * (v + cubicCoefficient * v * v * v))
                        slot.store(0.5 * v * (1 + t), yP.base)
                        slot.store(t, tP.base)
                    }
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
            Parallel.forEachChunk(of: VectorSlot.groups(x.count), minimumPerChunk: 1024) { groups in
                VectorSlot.forEach(groups, count: x.count) { slot in
                    slot.store(slot.load(dyP) * derivative(x: slot.load(xP), tanhOfU: slot.load(tP)), dxP.base)
                }
            }
        }}}}
    }

    /// Fast twin of `forwardReference`: the same expression on sixteen
    /// elements at a time (`VectorSlot`), so the same bits.
    public static func forwardFast(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape) { yPointer in x.withPointer { xP in
            let yP = SharedPointer(yPointer)
            Parallel.forEachChunk(of: VectorSlot.groups(x.count), minimumPerChunk: 1024) { groups in
                VectorSlot.forEach(groups, count: x.count) { slot in
                    let v = slot.load(xP)
                    let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
                    slot.store(0.5 * v * (1 + Elementary.tanh(u)), yP.base)
                }
            }
        }}
    }

    /// Fast twin of `backwardReference` (the same expression, sixteen at a time).
    public static func backwardFast(_ dy: Tensor, x: Tensor) -> Tensor {
        precondition(dy.shape == x.shape, "GELU upstream gradient \(dy.shape) != input \(x.shape)")
        return Tensor(shape: x.shape) { dxPointer in x.withPointer { xP in dy.withPointer { dyP in
            let dxP = SharedPointer(dxPointer)
            Parallel.forEachChunk(of: VectorSlot.groups(x.count), minimumPerChunk: 1024) { groups in
                VectorSlot.forEach(groups, count: x.count) { slot in
                    let v = slot.load(xP)
                    let t = Elementary.tanh(sqrtTwoOverPi * (v + cubicCoefficient * v * v * v))
                    slot.store(slot.load(dyP) * derivative(x: v, tanhOfU: t), dxP.base)
                }
            }
        }}}
    }

    /// dGELU/dx from x and t = tanh(u), in `backwardReference`'s order.
    @inline(__always)
    static func derivative(x v: Elementary.Vector, tanhOfU t: Elementary.Vector) -> Elementary.Vector {
        let duDx = sqrtTwoOverPi * (1 + 3 * cubicCoefficient * v * v)
        return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * duDx
    }

    /// Sixteen consecutive elements of the element-wise kernels' buffers
    /// (the width of `Elementary`), or the last fewer than sixteen, which
    /// load zero-padded and store only their own lanes. Lanes are
    /// independent, so every element gets the bits of the per-element
    /// expression either way.
    struct VectorSlot {
        /// The first element.
        let index: Int
        /// Elements in the slot: 16, or fewer for the last one.
        let lanes: Int

        /// Groups of sixteen (the last one possibly partial) in `count` elements.
        static func groups(_ count: Int) -> Int { (count + 15) / 16 }

        @inline(__always) func load(_ buffer: UnsafePointer<Double>) -> Elementary.Vector {
            if lanes == 16 { return UnsafeRawPointer(buffer + index).loadUnaligned(as: Elementary.Vector.self) }
            var padded = Elementary.Vector()
            for lane in 0..<lanes { padded[lane] = buffer[index + lane] }
            return padded
        }

        @inline(__always) func store(_ value: Elementary.Vector, _ buffer: UnsafeMutablePointer<Double>) {
            if lanes == 16 {
                UnsafeMutableRawPointer(buffer + index).storeBytes(of: value, as: Elementary.Vector.self)
                return
            }
            for lane in 0..<lanes { buffer[index + lane] = value[lane] }
        }

        /// Runs `body` on the slots of groups `groups` of `count` elements:
        /// the whole ones in a loop of plain vector loads and stores (the
        /// compiler specialises `body` for `lanes == 16` there), then the
        /// partial one if it is among them. Called inside each parallel
        /// chunk, so `body` is inlined into the chunk's loop.
        @inline(__always)
        static func forEach(_ groups: Range<Int>, count: Int, _ body: (VectorSlot) -> Void) {
            let whole = min(groups.upperBound, count / 16)
            var group = groups.lowerBound
            while group < whole {
                body(VectorSlot(index: group * 16, lanes: 16))
                group += 1
            }
            if group < groups.upperBound { body(VectorSlot(index: group * 16, lanes: count - group * 16)) }
        }
    }
}
