import CLAPACKE

/// Principal components of a set of states, fitted once and used to project
/// other states (the experiment notebook's "Internal dynamics": fit on
/// states from the pretraining source, project every trajectory).
///
/// Fitting: mean mu and sample covariance C = (X - mu)^T (X - mu) / (N - 1)
/// of N x D states X; the eigendecomposition C = V diag(lambda) V^T by
/// LAPACK's `dsyevd` (symmetric, divide and conquer); the components are the
/// eigenvectors of the largest eigenvalues, in decreasing order. An
/// eigenvector's sign is arbitrary (LAPACK may return either), so each one
/// is fixed deterministically: its entry of largest magnitude (the first
/// such on a tie) is made positive.
///
/// Whitened projection of x on component i: (x - mu) . v_i / sqrt(lambda_i),
/// so the fitted states' projections have sample variance 1 on every
/// component (Docs/report.md).
public struct PCA: Equatable, Sendable {
    /// D, the mean of the fitted states.
    public var mean: [Double]
    /// The components, one row of D per component, largest variance first.
    public var components: [[Double]]
    /// lambda_i: the sample variance of the fitted states along component i.
    public var variances: [Double]

    /// A stored PCA (e.g. read back from a results folder).
    public init(mean: [Double], components: [[Double]], variances: [Double]) {
        self.mean = mean
        self.components = components
        self.variances = variances
    }

    /// Fits the first `count` components of `states` (N x D, N >= 2).
    public init(fitting states: [[Double]], count: Int) throws {
        let n = states.count
        guard n >= 2, let d = states.first?.count, d >= 1 else {
            throw ThunniniError("PCA needs at least 2 states of width >= 1, got \(n)")
        }
        guard states.allSatisfy({ $0.count == d }) else { throw ThunniniError("PCA: states of different widths") }
        guard count >= 1, count <= d else { throw ThunniniError("PCA: cannot fit \(count) components of width-\(d) states") }
        guard states.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw ThunniniError("PCA: non-finite states") }
        var mean = [Double](repeating: 0, count: d)
        for x in states { for i in 0..<d { mean[i] += x[i] } }
        for i in 0..<d { mean[i] /= Double(n) }
        // Column-major D x D covariance (symmetric, so the layout does not matter).
        var covariance = [Double](repeating: 0, count: d * d)
        for x in states {
            for i in 0..<d {
                let xi = x[i] - mean[i]
                for j in 0...i { covariance[j * d + i] += xi * (x[j] - mean[j]) }
            }
        }
        for i in 0..<d {
            for j in 0...i {
                covariance[j * d + i] /= Double(n - 1)
                covariance[i * d + j] = covariance[j * d + i]
            }
        }
        let (values, vectors) = try Self.symmetricEigen(covariance, size: d)
        // dsyevd sorts eigenvalues ascending: the last `count` columns, reversed.
        var components: [[Double]] = []
        var variances: [Double] = []
        for column in stride(from: d - 1, through: d - count, by: -1) {
            var v = Array(vectors[(column * d)..<((column + 1) * d)])
            var largest = 0
            for i in 1..<d where abs(v[i]) > abs(v[largest]) { largest = i }
            if v[largest] < 0 { v = v.map { -$0 } }
            components.append(v)
            variances.append(values[column])
        }
        guard variances.allSatisfy({ $0 > 0 }) else {
            throw ThunniniError("PCA: the states have zero variance along component \(variances.firstIndex { $0 <= 0 }! + 1); cannot whiten")
        }
        self.mean = mean
        self.components = components
        self.variances = variances
    }

    /// Eigenvalues (ascending) and column-major eigenvectors of a symmetric
    /// `size` x `size` matrix, by `LAPACKE_dsyevd`.
    public static func symmetricEigen(_ matrix: [Double], size: Int) throws -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == size * size, "symmetricEigen needs a \(size) x \(size) matrix")
        var a = matrix
        var w = [Double](repeating: 0, count: size)
        let info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")),
                                  Int32(size), &a, Int32(size), &w)
        guard info == 0 else { throw ThunniniError("LAPACKE_dsyevd failed (info \(info))") }
        return (w, a)
    }

    /// The whitened projection of one state on every component.
    public func project(_ x: [Double]) -> [Double] {
        zip(components, variances).map { component, variance in
            var dot = 0.0
            for i in 0..<mean.count { dot += (x[i] - mean[i]) * component[i] }
            return dot / variance.squareRoot()
        }
    }

    /// Whitened projections of B x L x D states: B x L x count.
    public func project(_ states: Tensor) -> Tensor {
        let d = mean.count
        precondition(states.rank == 3 && states.shape[2] == d, "PCA.project needs B x L x \(d) states, got \(states.shape)")
        let rows = states.shape[0] * states.shape[1]
        var out = Tensor(shape: [states.shape[0], states.shape[1], components.count])
        for r in 0..<rows {
            let p = project(Array(states.storage[(r * d)..<((r + 1) * d)]))
            for (c, value) in p.enumerated() { out.storage[r * components.count + c] = value }
        }
        return out
    }
}
