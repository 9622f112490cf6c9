import Testing
@testable import Thunnini

@Suite("Dense and DenseWithLoRA")
struct DenseTests {
    @Test("Dense computes x W + b with W stored in x out")
    func denseForwardByHand() {
        let x = Tensor(shape: [1, 2], storage: [1, 2])
        let kernel = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        let bias = Tensor(shape: [3], storage: [0.5, -1, 0])
        let y = Dense.forward(x, kernel: kernel, bias: bias)
        #expect(y.shape == [1, 3])
        // 1*1 + 2*4 = 9, 1*2 + 2*5 = 12, 1*3 + 2*6 = 15.
        #expect(y.storage == [9.5, 11, 15])
    }

    @Test("Dense gradients match finite differences", arguments: [true, false])
    func denseGradients(useBias: Bool) {
        var random = LayerTestGenerator(seed: useBias ? 11 : 12)
        let x = random.tensor([2, 3, 4])
        let kernel = random.tensor([4, 5])
        let bias = useBias ? random.tensor([5]) : nil
        let weights = random.tensor([2, 3, 5])
        let gradients = Dense.backward(weights, x: x, kernel: kernel, hasBias: useBias)
        var inputs = [("x", x), ("kernel", kernel)]
        var analytic = ["x": gradients.input, "kernel": gradients.kernel]
        if let bias, let dBias = gradients.bias { inputs.append(("bias", bias)); analytic["bias"] = dBias }
        GradientCheck.check(layer: "Dense", inputs: inputs, analytic: analytic) { v in
            Dense.forward(v["x"]!, kernel: v["kernel"]!, bias: v["bias"]).dot(weights)
        }
        #expect((gradients.bias == nil) == !useBias)
    }

    @Test("DenseWithLoRA adds (x A) B (+ b_B) to x W (+ b)")
    func loraForwardIsSumOfPaths() {
        var random = LayerTestGenerator(seed: 3)
        let p = random.denseWithLoRA(in: 3, out: 4, useBias: true, loraRank: 2)
        let x = random.tensor([5, 3])
        let main = Dense.forward(x, kernel: p.kernel, bias: p.bias)
        let hidden = Dense.forward(x, kernel: p.loraInKernel!, bias: nil)
        let adapter = Dense.forward(hidden, kernel: p.loraOutKernel!, bias: p.loraOutBias)
        let (y, _) = DenseWithLoRA.forward(x, parameters: p)
        #expect((y - (main + adapter)).maxAbs <= 1e-14)
    }

    @Test("DenseWithLoRA gradients match finite differences",
          arguments: [(false, nil), (true, nil), (false, 2), (true, 1)] as [(Bool, Int?)])
    func loraGradients(useBias: Bool, rank: Int?) {
        var random = LayerTestGenerator(seed: 21 + UInt64(rank ?? 0) + (useBias ? 100 : 0))
        let p = random.denseWithLoRA(in: 4, out: 3, useBias: useBias, loraRank: rank)
        let x = random.tensor([2, 2, 4])
        let weights = random.tensor([2, 2, 3])
        let (_, cache) = DenseWithLoRA.forward(x, parameters: p)
        let (dx, dp) = DenseWithLoRA.backward(weights, cache: cache, parameters: p)
        let inputs = [("x", x)] + p.named("dense")
        let analytic = Dictionary(uniqueKeysWithValues: [("x", dx)] + dp.named("dense"))
        #expect(analytic.count == inputs.count)
        GradientCheck.check(layer: "DenseWithLoRA", inputs: inputs, analytic: analytic) { v in
            DenseWithLoRA.forward(v["x"]!, parameters: .from(v, prefix: "dense")).output.dot(weights)
        }
    }
}
