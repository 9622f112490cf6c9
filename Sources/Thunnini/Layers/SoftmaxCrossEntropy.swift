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
        guard width > 0 else { return Tensor.zeros(like: z) }
        return Tensor(shape: z.shape) { logP in z.withPointer { zP in
            let out = SharedPointer(logP)
            forEachRowChunk(z.rowCount) { rows in
                for row in rows { logSoftmaxRow(zP + row * width, width: width, into: out.base + row * width) }
            }
        }}
    }

    /// One row of `logSoftmax`.
    @inline(__always)
    static func logSoftmaxRow(_ z: UnsafePointer<Double>, width: Int, into logP: UnsafeMutablePointer<Double>) {
        var largest = -Double.infinity
        for v in 0..<width { largest = Swift.max(largest, z[v]) }
        var total = 0.0
        for v in 0..<width { total += exp(z[v] - largest) }
        let logTotal = log(total)
        for v in 0..<width { logP[v] = (z[v] - largest) - logTotal }
    }

    /// Rows are independent outputs: chunks of rows run on several threads
    /// (the same operations per row, so the same bits at any thread count).
    static func forEachRowChunk(_ rows: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEachChunk(of: rows, minimumPerChunk: 1024, body)
    }

    /// Instant losses `-sum_v y[v] log_softmax(z)[v]`, one per row: shape
    /// `z.shape.dropLast()`. Also returns the log-probabilities (the backward
    /// pass needs them, the predictor reports them).
    public static func forward(logits z: Tensor, labels y: Tensor) -> (losses: Tensor, logProbabilities: Tensor) {
        precondition(z.shape == y.shape, "logits \(z.shape) and labels \(y.shape) differ in shape")
        let width = z.lastAxisCount
        let logP = logSoftmax(z)
        let losses = Tensor(shape: Array(z.shape.dropLast())) { lossesP in y.withPointer { yP in logP.withPointer { pP in
            let out = SharedPointer(lossesP)
            forEachRowChunk(z.rowCount) { rows in
                for row in rows {
                    var loss = 0.0
                    // Zero labels contribute nothing even where log p = -inf (a token of
                    // probability zero), as optax.safe_softmax_cross_entropy does.
                    for v in 0..<width where yP[row * width + v] != 0 {
                        loss -= yP[row * width + v] * pP[row * width + v]
                    }
                    out.base[row] = loss
                }
            }
        }}}
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
        return Tensor(shape: logP.shape) { dzP in y.withPointer { yP in logP.withPointer { pP in dLosses.withPointer { dlP in
            let dz = SharedPointer(dzP)
            forEachRowChunk(logP.rowCount) { rows in
                for row in rows {
                    let start = row * width
                    var labelTotal = 0.0
                    for v in 0..<width { labelTotal += yP[start + v] }
                    let upstream = dlP[row]
                    for v in 0..<width {
                        let p = exp(pP[start + v])
                        dz.base[start + v] = upstream * (p * labelTotal - yP[start + v])
                    }
                }
            }
        }}}}
    }
}
