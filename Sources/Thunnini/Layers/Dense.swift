/// Dense (fully connected) layer, `y = x W + b`, acting on the last axis.
///
/// `W` is stored in x out (Flax's `kernel`), `b` has `out` entries. Every
/// axis of `x` but the last is flattened into rows, so `x` of shape
/// `[..., in]` gives `y` of shape `[..., out]`. See Docs/layers.md, "Dense".
public enum Dense {
    /// Gradients of a scalar loss with respect to the input and the parameters.
    public struct Gradients: Sendable {
        /// dL/dx, shape of `x`.
        public var input: Tensor
        /// dL/dW, `in x out`.
        public var kernel: Tensor
        /// dL/db, `out`; nil when the layer has no bias.
        public var bias: Tensor?
    }

    /// `y[r, o] = sum_i x[r, i] W[i, o] + b[o]` for every row `r`: the
    /// scalar reference kernel (`forwardFast` is its bit-identical twin).
    public static func forwardReference(_ x: Tensor, kernel: Tensor, bias: Tensor?) -> Tensor {
        precondition(kernel.rank == 2, "Dense kernel must be in x out, got \(kernel.shape)")
        let inFeatures = kernel.shape[0]
        let outFeatures = kernel.shape[1]
        precondition(x.rank >= 1 && x.lastAxisCount == inFeatures,
                     "Dense input \(x.shape) does not end in \(inFeatures)")
        if let bias { precondition(bias.shape == [outFeatures], "Dense bias \(bias.shape) != [\(outFeatures)]") }
        let rows = x.rowCount
        var y = Tensor(shape: Array(x.shape.dropLast()) + [outFeatures])
        for row in 0..<rows {
            let xRow = row * inFeatures
            let yRow = row * outFeatures
            // Start from the bias, then add each input feature times its kernel row.
            if let bias {
                for o in 0..<outFeatures { y.storage[yRow + o] = bias.storage[o] }
            }
            for i in 0..<inFeatures {
                let xi = x.storage[xRow + i]
                let kernelRow = i * outFeatures
                for o in 0..<outFeatures {
                    y.storage[yRow + o] += xi * kernel.storage[kernelRow + o]
                }
            }
        }
        return y
    }

    /// Vector-Jacobian product of `forward`:
    /// `dx = dy W^T`, `dW = x^T dy` (summed over rows), `db = sum_rows dy`.
    /// The scalar reference kernel (`backwardFast` is its bit-identical twin).
    public static func backwardReference(_ dy: Tensor, x: Tensor, kernel: Tensor, hasBias: Bool) -> Gradients {
        let inFeatures = kernel.shape[0]
        let outFeatures = kernel.shape[1]
        let rows = x.rowCount
        precondition(dy.shape == Array(x.shape.dropLast()) + [outFeatures],
                     "Dense upstream gradient \(dy.shape) does not match output of \(x.shape) x \(kernel.shape)")
        var dx = Tensor.zeros(like: x)
        var dKernel = Tensor.zeros(like: kernel)
        var dBias = hasBias ? Tensor.zeros([outFeatures]) : nil
        for row in 0..<rows {
            let xRow = row * inFeatures
            let yRow = row * outFeatures
            if hasBias {
                for o in 0..<outFeatures { dBias!.storage[o] += dy.storage[yRow + o] }
            }
            for i in 0..<inFeatures {
                let xi = x.storage[xRow + i]
                let kernelRow = i * outFeatures
                var dxi = 0.0
                for o in 0..<outFeatures {
                    let dyo = dy.storage[yRow + o]
                    dxi += dyo * kernel.storage[kernelRow + o]
                    dKernel.storage[kernelRow + o] += xi * dyo
                }
                dx.storage[xRow + i] = dxi
            }
        }
        return Gradients(input: dx, kernel: dKernel, bias: dBias)
    }
}
