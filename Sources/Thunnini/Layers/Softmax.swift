import Foundation

/// Row-wise softmax over the last axis; used for the `simplex` prefix, whose
/// K x V raw values become K probability vectors before being prepended.
/// See Docs/layers.md, "Softmax".
public enum Softmax {
    /// `p[r, v] = exp(z[r, v] - m_r) / sum_u exp(z[r, u] - m_r)` with
    /// `m_r = max_u z[r, u]` (the shift changes nothing but overflow).
    public static func forward(_ z: Tensor) -> Tensor {
        precondition(z.rank >= 1, "softmax needs at least one axis")
        let width = z.lastAxisCount
        var p = Tensor.zeros(like: z)
        guard width > 0 else { return p }
        for row in 0..<z.rowCount {
            let start = row * width
            var largest = -Double.infinity
            for v in 0..<width { largest = Swift.max(largest, z.storage[start + v]) }
            var total = 0.0
            for v in 0..<width {
                let e = exp(z.storage[start + v] - largest)
                p.storage[start + v] = e
                total += e
            }
            for v in 0..<width { p.storage[start + v] /= total }
        }
        return p
    }

    /// Vector-Jacobian product from the output `p`:
    /// `dz[v] = p[v] (dp[v] - sum_u p[u] dp[u])` per row.
    public static func backward(_ dp: Tensor, probabilities p: Tensor) -> Tensor {
        precondition(dp.shape == p.shape, "softmax upstream gradient \(dp.shape) != output \(p.shape)")
        let width = p.lastAxisCount
        var dz = Tensor.zeros(like: p)
        guard width > 0 else { return dz }
        for row in 0..<p.rowCount {
            let start = row * width
            var weighted = 0.0
            for v in 0..<width { weighted += p.storage[start + v] * dp.storage[start + v] }
            for v in 0..<width {
                dz.storage[start + v] = p.storage[start + v] * (dp.storage[start + v] - weighted)
            }
        }
        return dz
    }
}
