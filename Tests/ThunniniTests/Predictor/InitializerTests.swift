import Testing
@testable import Thunnini

@Suite("Initializers")
struct InitializerTests {
    @Test("orthogonal kernels have orthonormal columns (tall) or rows (wide)", arguments: [[12, 12], [8, 12], [12, 5]])
    func orthogonalIsOrthonormal(shape: [Int]) {
        let w = Initializers.orthogonal(shape: shape, key: RandomKey(seed: 7))
        let rows = shape[0], cols = shape[1]
        // For rows >= cols, W^T W = I (cols x cols); otherwise W W^T = I (rows x rows).
        let n = min(rows, cols)
        for a in 0..<n {
            for b in 0..<n {
                var dot = 0.0
                if rows >= cols {
                    for i in 0..<rows { dot += w[i, a] * w[i, b] }
                } else {
                    for j in 0..<cols { dot += w[a, j] * w[b, j] }
                }
                #expect(abs(dot - (a == b ? 1 : 0)) < 1e-12)
            }
        }
    }

    @Test("orthogonal is not a fixed matrix: different keys give different kernels")
    func orthogonalDependsOnKey() {
        let a = Initializers.orthogonal(shape: [6, 6], key: RandomKey(seed: 1))
        let b = Initializers.orthogonal(shape: [6, 6], key: RandomKey(seed: 2))
        #expect(a != b)
    }

    @Test("lecun normal: variance 1/fan_in, all entries within 2 scaled standard deviations")
    func lecunNormalMoments() {
        let fanIn = 50, fanOut = 400
        let w = Initializers.lecunNormal(shape: [fanIn, fanOut], key: RandomKey(seed: 3))
        let n = Double(w.count)
        let mean = w.storage.reduce(0, +) / n
        let variance = w.storage.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        let target = 1.0 / Double(fanIn)
        // Sample variance of 20 000 draws: relative standard error about sqrt(2/n) ~ 1%.
        #expect(abs(variance - target) < 4 * target * (2 / n).squareRoot() * 1.2)
        #expect(abs(mean) < 4 * (target / n).squareRoot())
        let bound = 2 * target.squareRoot() / 0.87962566103423978
        #expect(w.storage.allSatisfy { abs($0) <= bound })
    }
}
