import Foundation
import Testing
@testable import Thunnini

@Suite("LSTM")
struct LSTMTests {
    /// Random LSTM parameters, gate by gate: kernels scaled by `kernelScale`, biases by 0.5.
    static func parameters(_ random: inout LayerTestGenerator, input: Int, hidden: Int,
                           kernelScale: Double = 0.7) -> LSTM.Parameters {
        func gate() -> LSTM.Gate {
            LSTM.Gate(inputKernel: random.tensor([input, hidden], scale: kernelScale),
                      recurrentKernel: random.tensor([hidden, hidden], scale: kernelScale),
                      recurrentBias: random.tensor([hidden], scale: 0.5))
        }
        return LSTM.Parameters(inputGate: gate(), forgetGate: gate(), cellGate: gate(), outputGate: gate())
    }

    static let gateNames = [("i", \LSTM.Parameters.inputGate), ("f", \LSTM.Parameters.forgetGate),
                            ("g", \LSTM.Parameters.cellGate), ("o", \LSTM.Parameters.outputGate)]

    static func named(_ p: LSTM.Parameters) -> [(String, Tensor)] {
        gateNames.flatMap { name, path in
            [("i\(name)/kernel", p[keyPath: path].inputKernel), ("h\(name)/kernel", p[keyPath: path].recurrentKernel),
             ("h\(name)/bias", p[keyPath: path].recurrentBias)]
        }
    }

    static func from(_ v: [String: Tensor]) -> LSTM.Parameters {
        func gate(_ name: String) -> LSTM.Gate {
            LSTM.Gate(inputKernel: v["i\(name)/kernel"]!, recurrentKernel: v["h\(name)/kernel"]!,
                      recurrentBias: v["h\(name)/bias"]!)
        }
        return LSTM.Parameters(inputGate: gate("i"), forgetGate: gate("f"), cellGate: gate("g"), outputGate: gate("o"))
    }

    @Test("Two steps of a width-1 cell by hand")
    func twoStepsByHand() {
        func sigmoid(_ a: Double) -> Double { 1 / (1 + exp(-a)) }
        func gate(_ wi: Double, _ wh: Double, _ b: Double) -> LSTM.Gate {
            LSTM.Gate(inputKernel: Tensor(shape: [1, 1], storage: [wi]),
                      recurrentKernel: Tensor(shape: [1, 1], storage: [wh]), recurrentBias: Tensor(shape: [1], storage: [b]))
        }
        let p = LSTM.Parameters(inputGate: gate(0.5, -0.3, 0.1), forgetGate: gate(-0.2, 0.4, 0.2),
                                cellGate: gate(0.9, 0.6, -0.1), outputGate: gate(0.3, -0.7, 0.05))
        let x = Tensor(shape: [1, 2, 1], storage: [1.5, -0.5])
        let (hiddens, cache) = LSTM.forward(x, parameters: p)
        let cells = cache.cells
        var c = 0.0, h = 0.0
        for xt in [1.5, -0.5] {
            let i = sigmoid(0.5 * xt - 0.3 * h + 0.1)
            let f = sigmoid(-0.2 * xt + 0.4 * h + 0.2)
            let g = tanh(0.9 * xt + 0.6 * h - 0.1)
            let o = sigmoid(0.3 * xt - 0.7 * h + 0.05)
            c = f * c + i * g
            h = o * tanh(c)
        }
        #expect(abs(cells[0, 1, 0] - c) <= 1e-15)
        #expect(abs(hiddens[0, 1, 0] - h) <= 1e-15)
    }

    @Test("BPTT gradients match finite differences", arguments: [true, false])
    func gradients(withCellGradients: Bool) {
        var random = LayerTestGenerator(seed: withCellGradients ? 83 : 89)
        let (batch, length, input, hidden) = (2, 5, 3, 4)
        let p = Self.parameters(&random, input: input, hidden: hidden)
        let x = random.tensor([batch, length, input])
        let hiddenWeights = random.tensor([batch, length, hidden])
        let cellWeights = withCellGradients ? random.tensor([batch, length, hidden]) : nil
        let (_, cache) = LSTM.forward(x, parameters: p)
        let (dx, dp) = LSTM.backward(dHiddens: hiddenWeights, dCells: cellWeights, cache: cache, parameters: p)
        let inputs = [("x", x)] + Self.named(p)
        let analytic = Dictionary(uniqueKeysWithValues: [("x", dx)] + Self.named(dp))
        GradientCheck.check(layer: "LSTM(cell gradients: \(withCellGradients))", inputs: inputs, analytic: analytic) { v in
            let (hiddens, cache) = LSTM.forward(v["x"]!, parameters: Self.from(v))
            return hiddens.dot(hiddenWeights) + (cellWeights.map { cache.cells.dot($0) } ?? 0)
        }
    }
}
