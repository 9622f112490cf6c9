import Foundation

/// Log-softmax over the last axis and the instant log loss
/// `loss = -sum_v y[v] log_softmax(z)[v]` (y one-hot in the original, but any
/// weights work). See Docs/layers.md, "Softmax cross-entropy".
public enum SoftmaxCrossEntropy {
    /// `log_softmax(z)[v] = (z[v] - m) - log(sum_u exp(z[u] - m))`, `m = max z`,
    /// per row of the last axis (the same shift as `jax.nn.log_softmax`).
    public static func logSoftmax(_ z: Tensor) -> Tensor {
        precondition(z.rank >= 1, "log-softmax needs at least one axis")
        let width = z.lastAxisCount
        var logP = Tensor.zeros(like: z)
        guard width > 0 else { return logP }
        for row in 0..<z.rowCount {
            let start = row * width
            var largest = -Double.infinity
            for v in 0..<width { largest = Swift.max(largest, z.storage[start + v]) }
            var total = 0.0
            for v in 0..<width { total += exp(z.storage[start + v] - largest) }
            let logTotal = log(total)
            for v in 0..<width {
                logP.storage[start + v] = (z.storage[start + v] - largest) - logTotal
            }
        }
        return logP
    }

    /// Instant losses `-sum_v y[v] log_softmax(z)[v]`, one per row: shape
    /// `z.shape.dropLast()`. Also returns the log-probabilities (the backward
    /// pass needs them, the predictor reports them).
    public static func forward(logits z: Tensor, labels y: Tensor) -> (losses: Tensor, logProbabilities: Tensor) {
        precondition(z.shape == y.shape, "logits \(z.shape) and labels \(y.shape) differ in shape")
        let width = z.lastAxisCount
        let logP = logSoftmax(z)
        var losses = Tensor.zeros(Array(z.shape.dropLast()))
        for row in 0..<z.rowCount {
            var loss = 0.0
            // Zero labels contribute nothing even where log p = -inf (a token of
            // probability zero), as optax.safe_softmax_cross_entropy does.
            for v in 0..<width where y.storage[row * width + v] != 0 {
                loss -= y.storage[row * width + v] * logP.storage[row * width + v]
            }
            losses.storage[row] = loss
        }
        return (losses, logP)
    }

    /// Vector-Jacobian product with respect to the logits, given the upstream
    /// gradient of each row's loss: `dz[v] = dloss (p[v] sum_u y[u] - y[v])`,
    /// `p = exp(log_softmax(z))` (for one-hot y: `dloss (p - y)`).
    public static func backward(_ dLosses: Tensor, logProbabilities logP: Tensor, labels y: Tensor) -> Tensor {
        precondition(logP.shape == y.shape, "log-probabilities \(logP.shape) and labels \(y.shape) differ")
        precondition(dLosses.shape == Array(logP.shape.dropLast()),
                     "loss gradient \(dLosses.shape) does not match rows of \(logP.shape)")
        let width = logP.lastAxisCount
        var dz = Tensor.zeros(like: logP)
        for row in 0..<logP.rowCount {
            let start = row * width
            var labelTotal = 0.0
            for v in 0..<width { labelTotal += y.storage[start + v] }
            let upstream = dLosses.storage[row]
            for v in 0..<width {
                let p = exp(logP.storage[start + v])
                dz.storage[start + v] = upstream * (p * labelTotal - y.storage[start + v])
            }
        }
        return dz
    }
}
