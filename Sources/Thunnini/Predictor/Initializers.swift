import CLAPACKE

/// The original's parameter initialisers (Flax defaults), drawn from the
/// fixed-seed engine. They reproduce the distributions, not JAX's bit
/// patterns (JAX's sampler is not part of the contract; see Docs/predictor.md).
public enum Initializers {
    /// Flax `lecun_normal`: truncated normal on [-2, 2] standard deviations,
    /// scaled so that the variance is 1 / fan_in. The standard deviation of a
    /// unit normal truncated to [-2, 2] is 0.87962566103423978, hence the
    /// division.
    public static func lecunNormal(shape: [Int], key: RandomKey) -> Tensor {
        precondition(shape.count == 2, "lecunNormal expects a [fan_in, fan_out] kernel shape")
        let fanIn = Double(shape[0])
        let standardDeviation = (1.0 / fanIn).squareRoot() / 0.87962566103423978
        var kernel = Tensor.truncatedNormal(shape: shape, lower: -2, upper: 2, key: key)
        for i in 0..<kernel.count { kernel.storage[i] *= standardDeviation }
        return kernel
    }

    /// Flax `orthogonal` for a [rows, cols] kernel: draw a
    /// max(rows, cols) x min(rows, cols) standard normal matrix A, take its QR
    /// decomposition (LAPACK dgeqrf + dorgqr), multiply column j of Q by
    /// sign(R[j, j]) so the factorisation is unique, and transpose when
    /// rows < cols.
    public static func orthogonal(shape: [Int], key: RandomKey) -> Tensor {
        precondition(shape.count == 2, "orthogonal expects a 2-D kernel shape")
        let rows = shape[0], cols = shape[1]
        let tall = max(rows, cols), narrow = min(rows, cols)
        let gaussian = Tensor.normal(shape: [tall, narrow], key: key)
        // LAPACK works in column-major order: a[i + j * tall] = A[i, j].
        var a = [Double](repeating: 0, count: tall * narrow)
        for i in 0..<tall {
            for j in 0..<narrow { a[i + j * tall] = gaussian.storage[i * narrow + j] }
        }
        var tau = [Double](repeating: 0, count: narrow)
        var info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, Int32(tall), Int32(narrow), &a, Int32(tall), &tau)
        precondition(info == 0, "LAPACKE_dgeqrf failed with info \(info)")
        // R's diagonal is on a's diagonal after dgeqrf; keep its signs.
        var diagonalSigns = [Double](repeating: 1, count: narrow)
        for j in 0..<narrow { diagonalSigns[j] = a[j + j * tall] < 0 ? -1 : 1 }
        info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, Int32(tall), Int32(narrow), Int32(narrow), &a, Int32(tall), &tau)
        precondition(info == 0, "LAPACKE_dorgqr failed with info \(info)")
        var kernel = Tensor(shape: [rows, cols])
        for i in 0..<tall {
            for j in 0..<narrow {
                let q = a[i + j * tall] * diagonalSigns[j]
                if rows >= cols { kernel.storage[i * cols + j] = q } else { kernel.storage[j * cols + i] = q }
            }
        }
        return kernel
    }
}
