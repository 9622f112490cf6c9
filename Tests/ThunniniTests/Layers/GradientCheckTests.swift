import Testing
@testable import Thunnini

@Suite("Gradient check helper")
struct GradientCheckTests {
    @Test("A correct gradient passes with tiny error")
    func correctGradientPasses() {
        let x = Tensor(shape: [2, 2], storage: [0.3, -1.2, 2.0, 0.7])
        // f = sum x^3, df/dx = 3 x^2.
        var analytic = x
        for i in 0..<4 { analytic.storage[i] = 3 * x.storage[i] * x.storage[i] }
        let worst = GradientCheck.check(layer: "cube", parameter: "x", at: x, analytic: analytic) { t in
            t.storage.map { $0 * $0 * $0 }.reduce(0, +)
        }
        #expect(worst <= 1e-9)
    }

    @Test("A gradient wrong at one coordinate is reported")
    func wrongGradientIsReported() {
        let x = Tensor(shape: [3], storage: [0.3, -1.2, 2.0])
        var analytic = x.scaled(by: 2)   // f = sum x^2
        analytic.storage[1] += 1e-5      // relative error ~4e-6 > 1e-6
        var failures: [String] = []
        GradientCheck.check(layer: "square", parameter: "x", at: x, analytic: analytic, report: { failures.append($0) }) { t in
            t.dot(t)
        }
        // Exactly the wrong coordinate fails, and the message names layer, parameter and coordinate.
        #expect(failures.count == 1)
        #expect(failures.first?.contains("square: gradient of 'x' at [1]") == true)
    }

    @Test("Multi-indices are row-major")
    func multiIndex() {
        #expect(GradientCheck.multiIndex(7, shape: [2, 3, 2]) == [1, 0, 1])
    }
}
