import Foundation
import Testing
@testable import Thunnini

/// The dynamics figure's PCA: LAPACK's eigendecomposition, the component
/// order, the deterministic sign and the whitening.
@Suite struct PCATests {
    /// dsyevd on [[2, 1], [1, 2]]: eigenvalues 1 and 3 (ascending), eigenvectors (1, -1)/sqrt 2 and (1, 1)/sqrt 2.
    @Test func symmetricEigenOfATwoByTwo() throws {
        let (values, vectors) = try PCA.symmetricEigen([2, 1, 1, 2], size: 2)
        #expect(abs(values[0] - 1) < 1e-14 && abs(values[1] - 3) < 1e-14)
        let r = 1 / 2.0.squareRoot()
        #expect(abs(abs(vectors[2]) - r) < 1e-14 && abs(vectors[2] - vectors[3]) < 1e-14, "top eigenvector \(vectors[2...3])")
    }

    /// The 8 corners of a box with half-widths 3, 2, 1, rotated by R, have
    /// sample covariance R diag(72/7, 32/7, 8/7) R^T (denominator N - 1 = 7).
    /// Catches: components in LAPACK's ascending order, a 1/N covariance,
    /// eigenvectors read as rows instead of columns, and a missing sign rule
    /// (R's first column has its largest entry negative, so the fitted
    /// component must be its negation).
    @Test func knownEigendecompositionWithFixedSigns() throws {
        let c = 0.6, s = 0.8
        // Columns of R: (-s, c, 0), (0, 0, 1), (c, s, 0); orthonormal.
        let columns: [[Double]] = [[-s, c, 0], [0, 0, 1], [c, s, 0]]
        let halfWidths = [3.0, 2.0, 1.0]
        var states: [[Double]] = []
        for signs in [(1.0, 1.0, 1.0), (1, 1, -1), (1, -1, 1), (1, -1, -1), (-1, 1, 1), (-1, 1, -1), (-1, -1, 1), (-1, -1, -1)] {
            let z = [signs.0 * halfWidths[0], signs.1 * halfWidths[1], signs.2 * halfWidths[2]]
            states.append((0..<3).map { i in (0..<3).reduce(0.0) { $0 + columns[$1][i] * z[$1] } + [10.0, -5.0, 1.0][i] })
        }
        let pca = try PCA(fitting: states, count: 2)
        #expect(zip(pca.mean, [10.0, -5.0, 1.0]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(abs(pca.variances[0] - 72.0 / 7) < 1e-12 && abs(pca.variances[1] - 32.0 / 7) < 1e-12, "\(pca.variances)")
        let expected: [[Double]] = [[s, -c, 0], [0, 0, 1]]   // first column negated by the sign rule
        for (got, want) in zip(pca.components, expected) {
            #expect(zip(got, want).allSatisfy { abs($0 - $1) < 1e-12 }, "component \(got), expected \(want)")
        }
    }

    /// Whitened projections of the fitted states have sample variance 1 on
    /// each component and are uncorrelated. Catches dividing by the variance
    /// instead of its square root, and a mean not subtracted.
    @Test func whitenedProjectionsOfTheFittedStatesHaveUnitVariance() throws {
        var stream = RandomStream(key: RandomKey(seed: 7))
        var states: [[Double]] = []
        for _ in 0..<500 {
            let z = (0..<4).map { _ in stream.normal() }
            states.append([3 * z[0] + z[1] + 2, z[1] - 0.5 * z[2], 0.2 * z[3] + z[0], 5 + 0.1 * z[2]])
        }
        let pca = try PCA(fitting: states, count: 2)
        let projections = states.map(pca.project)
        for component in 0..<2 {
            let values = projections.map { $0[component] }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
            #expect(abs(mean) < 1e-12, "mean of component \(component + 1): \(mean)")
            #expect(abs(variance - 1) < 1e-10, "variance of component \(component + 1): \(variance)")
        }
        let covariance = projections.reduce(0) { $0 + $1[0] * $1[1] } / Double(projections.count - 1)
        #expect(abs(covariance) < 1e-10)
        // The tensor form projects the same way.
        let tensor = Tensor(shape: [1, states.count, 4], storage: states.flatMap { $0 })
        #expect(pca.project(tensor).storage == projections.flatMap { $0 })
    }

    @Test func refusesDegenerateInput() {
        #expect(throws: ThunniniError.self) { try PCA(fitting: [[1, 2]], count: 1) }
        #expect(throws: ThunniniError.self) { try PCA(fitting: [[1, 2], [1, 2], [1, 2]], count: 1) }
        #expect(throws: ThunniniError.self) { try PCA(fitting: [[1, 2], [3, 4]], count: 3) }
    }
}
