import Testing
@testable import Thunnini

@Suite("LayerNorm")
struct LayerNormTests {
    @Test("LayerNorm rows have mean 0 and variance var/(var+eps) before scale and bias")
    func normalisedMoments() {
        var random = LayerTestGenerator(seed: 5)
        let x = random.tensor([3, 6], scale: 2)
        let ones = Tensor(shape: [6], repeating: 1)
        let (y, cache) = LayerNorm.forward(x, scale: ones, bias: nil)
        for row in 0..<3 {
            let values = (0..<6).map { x[row, $0] }
            let mean = values.reduce(0, +) / 6
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 6
            let outputs = (0..<6).map { y[row, $0] }
            let outputMean = outputs.reduce(0, +) / 6
            let outputVariance = outputs.map { $0 * $0 }.reduce(0, +) / 6
            #expect(abs(outputMean) <= 1e-14)
            #expect(abs(outputVariance - variance / (variance + 1e-6)) <= 1e-12)
            #expect(abs(cache.mean[row] - mean) <= 1e-14)
            #expect(abs(cache.rstd[row] - 1 / (variance + 1e-6).squareRoot()) <= 1e-12)
        }
    }

    @Test("LayerNorm gradients match finite differences", arguments: [true, false])
    func gradients(useBias: Bool) {
        var random = LayerTestGenerator(seed: useBias ? 31 : 32)
        let x = random.tensor([2, 3, 5])
        let scale = random.tensor([5])
        let bias = useBias ? random.tensor([5]) : nil
        let weights = random.tensor([2, 3, 5])
        let (_, cache) = LayerNorm.forward(x, scale: scale, bias: bias)
        let g = LayerNorm.backward(weights, x: x, scale: scale, cache: cache, hasBias: useBias)
        var inputs = [("x", x), ("scale", scale)]
        var analytic = ["x": g.input, "scale": g.scale]
        if let bias, let dBias = g.bias { inputs.append(("bias", bias)); analytic["bias"] = dBias }
        GradientCheck.check(layer: "LayerNorm", inputs: inputs, analytic: analytic) { v in
            LayerNorm.forward(v["x"]!, scale: v["scale"]!, bias: v["bias"]).output.dot(weights)
        }
    }
}
