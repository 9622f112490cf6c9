/// Layer normalisation over the last axis (Flax `nn.LayerNorm` semantics).
///
/// Per row: `mean = E[x]`, `var = max(0, E[x^2] - E[x]^2)` (the clamp guards
/// against a negative rounding result, as Flax does),
/// `rstd = 1 / sqrt(var + eps)`, `y = (x - mean) rstd * scale (+ bias)`.
/// See Docs/layers.md, "LayerNorm".
public enum LayerNorm {
    /// Flax's default epsilon.
    public static let defaultEpsilon = 1e-6

    /// What the backward pass needs from the forward pass: per-row statistics.
    public struct Cache: Sendable {
        /// Mean of each row, shape `x.shape.dropLast()`.
        public var mean: Tensor
        /// Reciprocal standard deviation `1 / sqrt(var + eps)` of each row.
        public var rstd: Tensor
    }

    /// Gradients of a scalar loss with respect to the input and the parameters.
    public struct Gradients: Sendable {
        /// dL/dx, shape of `x`.
        public var input: Tensor
        /// dL/dscale, `[features]`.
        public var scale: Tensor
        /// dL/dbias, `[features]`; nil when the layer has no bias.
        public var bias: Tensor?
    }

    /// Normalises every row of `x` (shape `[..., features]`): the scalar
    /// reference kernel (`forwardFast` is its bit-identical twin).
    public static func forwardReference(_ x: Tensor, scale: Tensor, bias: Tensor?,
                               epsilon: Double = defaultEpsilon) -> (output: Tensor, cache: Cache) {
        let features = x.lastAxisCount
        precondition(x.rank >= 1 && scale.shape == [features], "LayerNorm scale \(scale.shape) for input \(x.shape)")
        if let bias { precondition(bias.shape == [features], "LayerNorm bias \(bias.shape) for input \(x.shape)") }
        let rows = x.rowCount
        let rowShape = Array(x.shape.dropLast())
        var y = Tensor.zeros(like: x)
        var mean = Tensor.zeros(rowShape)
        var rstd = Tensor.zeros(rowShape)
        for row in 0..<rows {
            let start = row * features
            // Moments E[x] and E[x^2] of the row.
            var sum = 0.0
            var sumOfSquares = 0.0
            for j in 0..<features {
                let v = x.storage[start + j]
                sum += v
                sumOfSquares += v * v
            }
            let rowMean = sum / Double(features)
            let variance = Swift.max(0, sumOfSquares / Double(features) - rowMean * rowMean)
            let rowRstd = 1 / (variance + epsilon).squareRoot()
            mean.storage[row] = rowMean
            rstd.storage[row] = rowRstd
            // Normalise, scale, shift.
            for j in 0..<features {
                var value = (x.storage[start + j] - rowMean) * rowRstd * scale.storage[j]
                if let bias { value += bias.storage[j] }
                y.storage[start + j] = value
            }
        }
        return (y, Cache(mean: mean, rstd: rstd))
    }

    /// Vector-Jacobian product of `forward`. With `xhat = (x - mean) rstd` and
    /// `g = dy * scale` (per row, N features):
    /// `dx = rstd (g - mean(g) - xhat mean(g xhat))`,
    /// `dscale = sum_rows dy xhat`, `dbias = sum_rows dy`.
    /// (Flax's clamp `max(0, var)` is active only for a row that is constant
    /// up to rounding, where `xhat` is zero up to rounding, so the formula
    /// needs no special case.) The scalar reference kernel (`backwardFast` is
    /// its bit-identical twin).
    public static func backwardReference(_ dy: Tensor, x: Tensor, scale: Tensor, cache: Cache,
                                hasBias: Bool) -> Gradients {
        precondition(dy.shape == x.shape, "LayerNorm upstream gradient \(dy.shape) != input \(x.shape)")
        let features = x.lastAxisCount
        let rows = x.rowCount
        var dx = Tensor.zeros(like: x)
        var dScale = Tensor.zeros([features])
        var dBias = hasBias ? Tensor.zeros([features]) : nil
        for row in 0..<rows {
            let start = row * features
            let rowMean = cache.mean.storage[row]
            let rowRstd = cache.rstd.storage[row]
            // Parameter gradients and the two row means mean(g), mean(g xhat).
            var meanG = 0.0
            var meanGXhat = 0.0
            for j in 0..<features {
                let xhat = (x.storage[start + j] - rowMean) * rowRstd
                let dyj = dy.storage[start + j]
                dScale.storage[j] += dyj * xhat
                if hasBias { dBias!.storage[j] += dyj }
                let g = dyj * scale.storage[j]
                meanG += g
                meanGXhat += g * xhat
            }
            meanG /= Double(features)
            meanGXhat /= Double(features)
            // Input gradient.
            for j in 0..<features {
                let xhat = (x.storage[start + j] - rowMean) * rowRstd
                let g = dy.storage[start + j] * scale.storage[j]
                dx.storage[start + j] = rowRstd * (g - meanG - xhat * meanGXhat)
            }
        }
        return Gradients(input: dx, scale: dScale, bias: dBias)
    }
}
