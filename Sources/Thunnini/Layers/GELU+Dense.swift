/// GELU fused with the Dense layer on either side of it in the
/// transformer's MLP (Docs/performance.md).
///
/// Forwards, `Dense.forward` then `GELU.forwardKeepingTanh`; backwards,
/// `Dense.inputGradient` then `GELU.backward`: the same operations on every
/// element, but each block of rows goes through GELU as soon as the
/// product has written it, while it is still in cache, instead of in a
/// second sweep over tensors of `rows x 4 width` doubles in memory.
/// Elements are independent, so the results are those of the two passes,
/// bit for bit, at any thread count.
extension GELU {
    /// `widened = x W + b` (the Dense layer), `activated = GELU(widened)`,
    /// and with `keepingTanh` GELU's `tanh(u)` for the backward pass (nil
    /// under `KernelMode.useReferenceKernels`, as `forwardKeepingTanh`).
    public static func forwardAfterDense(_ x: Tensor, kernel: Tensor, bias: Tensor?,
                                         keepingTanh: Bool) -> (widened: Tensor, activated: Tensor, tanhOfU: Tensor?) {
        if KernelMode.useReferenceKernels {
            let widened = Dense.forward(x, kernel: kernel, bias: bias)
            return (widened, forwardReference(widened), nil)
        }
        precondition(kernel.rank == 2, "Dense kernel must be in x out, got \(kernel.shape)")
        let outFeatures = kernel.shape[1]
        let shape = Array(x.shape.dropLast()) + [outFeatures]
        var widened = Tensor.zeros([0])
        // Every element of GELU's outputs is written, block by block.
        let outputs = Tensor.writingEveryElement(shapes: keepingTanh ? [shape, shape] : [shape]) { pointers in
            let activatedP = SharedPointer(pointers[0])
            let tanhP = keepingTanh ? SharedPointer(pointers[1]) : nil
            widened = Dense.forwardFast(x, kernel: kernel, bias: bias) { rows, y in
                forEachSlot(in: (rows.lowerBound * outFeatures)..<(rows.upperBound * outFeatures)) { slot in
                    let v = slot.load(y)
                    let t = tanhOfU(v)
                    slot.store(output(x: v, tanhOfU: t), activatedP.base)
                    if let tanhP { slot.store(t, tanhP.base) }
                }
            }
        }
        return (widened, outputs[0], keepingTanh ? outputs[1] : nil)
    }

    /// dL/d(widened) from dL/d(activated's Dense output) `dy`: `dy W^T`
    /// (the next Dense layer's input gradient, `kernel` its kernel) times
    /// GELU's derivative at `x` (= widened) with the kept `tanhOfU`. Without
    /// a kept tanh, or under `KernelMode.useReferenceKernels`, the two
    /// separate passes.
    public static func backwardThroughDense(_ dy: Tensor, kernel: Tensor, x: Tensor, tanhOfU: Tensor?) -> Tensor {
        guard let tanhOfU, !KernelMode.useReferenceKernels else {
            // `Dense.inputGradient` reads only the shape of its x.
            return backward(Dense.inputGradient(dy, x: x, kernel: kernel, hasBias: false), x: x, tanhOfU: tanhOfU)
        }
        precondition(kernel.rank == 2 && tanhOfU.shape == x.shape,
                     "GELU input \(x.shape), tanh \(tanhOfU.shape) and Dense kernel \(kernel.shape) do not match")
        let inFeatures = kernel.shape[0]
        return x.withPointer { xP in tanhOfU.withPointer { tP in
            Dense.inputGradientFast(dy, inputShape: x.shape, kernel: kernel) { rows, dA in
                forEachSlot(in: (rows.lowerBound * inFeatures)..<(rows.upperBound * inFeatures)) { slot in
                    slot.store(slot.load(dA) * derivative(x: slot.load(xP), tanhOfU: slot.load(tP)), dA)
                }
            }
        }}
    }

    /// The slots of elements `elements` of a buffer: whole ones, then a
    /// partial last one (any partition gives every element the same bits).
    @inline(__always)
    static func forEachSlot(in elements: Range<Int>, _ body: (Elementary.Slot) -> Void) {
        var index = elements.lowerBound
        while index + 16 <= elements.upperBound {
            body(Elementary.Slot(index: index, lanes: 16))
            index += 16
        }
        if index < elements.upperBound { body(Elementary.Slot(index: index, lanes: elements.upperBound - index)) }
    }
}
