import Foundation
import Testing
@testable import Thunnini

@Suite("GELU, positional encoding, softmax, cross-entropy")
struct ElementwiseLayerTests {
    @Test("GELU is the tanh approximation")
    func geluValues() {
        let x = Tensor(shape: [3], storage: [0, 1, -2])
        let y = GELU.forward(x)
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) evaluated term by term.
        let c = (2 / Double.pi).squareRoot()
        #expect(y[0] == 0)
        #expect(abs(y[1] - 0.5 * (1 + tanh(c * 1.044715))) <= 1e-15)
        #expect(abs(y[2] - (-1) * (1 + tanh(c * (-2 - 0.35772)))) <= 1e-15)
        // The tanh approximation at 1 is 0.8411919906... (differs from exact GELU 0.8413447...).
        #expect(abs(y[1] - 0.8411919906082768) <= 1e-12)
    }

    @Test("GELU gradient matches finite differences")
    func geluGradient() {
        var random = LayerTestGenerator(seed: 41)
        let x = random.tensor([3, 7], scale: 2)
        let weights = random.tensor([3, 7])
        GradientCheck.check(layer: "GELU", parameter: "x", at: x, analytic: GELU.backward(weights, x: x)) {
            GELU.forward($0).dot(weights)
        }
    }

    @Test("Sinusoidal table for even D: D/2+1 sine columns, D/2-1 cosine columns")
    func positionalEvenWidth() {
        // D = 4: freqs 0, 2, 4 -> inv 1, 1e-2, 1e-4; [sin x3, cos x3] cut to 4.
        let table = PositionalEncoding.table(length: 3, width: 4)
        for p in 0..<3 {
            let pos = Double(p)
            let expected = [sin(pos), sin(pos * 1e-2), sin(pos * 1e-4), cos(pos)]
            for column in 0..<4 { #expect(abs(table[p, column] - expected[column]) <= 1e-15) }
        }
    }

    @Test("Sinusoidal table for odd D: (D+1)/2 sine columns")
    func positionalOddWidth() {
        // D = 5: freqs 0, 2, 4 -> inv 1, 1e4^-0.4, 1e4^-0.8; [sin x3, cos x3] cut to 5.
        let table = PositionalEncoding.table(length: 4, width: 5)
        let inv = [1, pow(1e4, -0.4), pow(1e4, -0.8)]
        for p in 0..<4 {
            let pos = Double(p)
            let expected = [sin(pos * inv[0]), sin(pos * inv[1]), sin(pos * inv[2]), cos(pos * inv[0]), cos(pos * inv[1])]
            for column in 0..<5 { #expect(abs(table[p, column] - expected[column]) <= 1e-15) }
        }
    }

    @Test("Adding positions broadcasts the table over the batch; backward is identity")
    func positionalAdd() {
        var random = LayerTestGenerator(seed: 43)
        let x = random.tensor([2, 3, 4])
        let y = PositionalEncoding.forward(x)
        let table = PositionalEncoding.table(length: 3, width: 4)
        for b in 0..<2 { for t in 0..<3 { for d in 0..<4 { #expect(y[b, t, d] == x[b, t, d] + table[t, d]) } } }
        let weights = random.tensor([2, 3, 4])
        GradientCheck.check(layer: "PositionalEncoding", parameter: "x", at: x,
                            analytic: PositionalEncoding.backward(weights)) {
            PositionalEncoding.forward($0).dot(weights)
        }
    }

    @Test("Simplex softmax rows sum to one; gradient matches finite differences")
    func softmax() {
        var random = LayerTestGenerator(seed: 47)
        let z = random.tensor([3, 4], scale: 3)
        let p = Softmax.forward(z)
        for row in 0..<3 {
            #expect(abs((0..<4).map { p[row, $0] }.reduce(0, +) - 1) <= 1e-15)
            #expect(abs(p[row, 1] / p[row, 0] - exp(z[row, 1] - z[row, 0])) <= 1e-12)
        }
        let weights = random.tensor([3, 4])
        GradientCheck.check(layer: "Softmax", parameter: "prefix", at: z,
                            analytic: Softmax.backward(weights, probabilities: p)) {
            Softmax.forward($0).dot(weights)
        }
    }

    @Test("Cross-entropy of uniform logits is log V; log-softmax normalises")
    func crossEntropyValues() {
        let logits = Tensor(shape: [1, 4], repeating: 2.5)
        let labels = Tensor(shape: [1, 4], storage: [0, 0, 1, 0])
        let (losses, logP) = SoftmaxCrossEntropy.forward(logits: logits, labels: labels)
        #expect(losses.shape == [1])
        #expect(abs(losses[0] - log(4)) <= 1e-15)
        var random = LayerTestGenerator(seed: 53)
        let z = random.tensor([2, 5], scale: 10)
        let logSoftmax = SoftmaxCrossEntropy.logSoftmax(z)
        for row in 0..<2 {
            #expect(abs((0..<5).map { exp(logSoftmax[row, $0]) }.reduce(0, +) - 1) <= 1e-14)
        }
        #expect(logP.shape == [1, 4])
    }

    @Test("Cross-entropy gradient wrt logits matches finite differences")
    func crossEntropyGradient() {
        var random = LayerTestGenerator(seed: 59)
        let logits = random.tensor([2, 3, 4], scale: 2)
        var labels = Tensor.zeros([2, 3, 4])
        for row in 0..<6 { labels.storage[row * 4 + Int(random.next() % 4)] = 1 }
        let weights = random.tensor([2, 3])
        let (_, logP) = SoftmaxCrossEntropy.forward(logits: logits, labels: labels)
        GradientCheck.check(layer: "SoftmaxCrossEntropy", parameter: "logits", at: logits,
                            analytic: SoftmaxCrossEntropy.backward(weights, logProbabilities: logP, labels: labels)) {
            SoftmaxCrossEntropy.forward(logits: $0, labels: labels).losses.dot(weights)
        }
    }
}
