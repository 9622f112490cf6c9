import Foundation

/// One LSTM layer unrolled over a sequence, Flax `OptimizedLSTMCell`
/// semantics, carry `(c, h)` starting at zero for every sequence:
///
/// `i = sigmoid(x W_ii + h W_hi + b_hi)`, `f = sigmoid(x W_if + h W_hf + b_hf)`,
/// `g = tanh(x W_ig + h W_hg + b_hg)`, `o = sigmoid(x W_io + h W_ho + b_ho)`,
/// `c' = f c + i g`, `h' = o tanh(c')`.
///
/// Input kernels have no bias, recurrent ones do. See Docs/layers.md, "LSTM".
public enum LSTM {
    /// The parameters of one gate: Flax's `i<gate>/kernel` (`in x H`),
    /// `h<gate>/kernel` (`H x H`) and `h<gate>/bias` (`H`).
    public struct Gate: Equatable, Sendable {
        /// `W_i<gate>`, `in x H`.
        public var inputKernel: Tensor
        /// `W_h<gate>`, `H x H`.
        public var recurrentKernel: Tensor
        /// `b_h<gate>`, `H`.
        public var recurrentBias: Tensor

        public init(inputKernel: Tensor, recurrentKernel: Tensor, recurrentBias: Tensor) {
            self.inputKernel = inputKernel
            self.recurrentKernel = recurrentKernel
            self.recurrentBias = recurrentBias
        }
    }

    /// The parameters of one layer (also used for its gradients).
    public struct Parameters: Equatable, Sendable {
        /// i: Flax `ii`, `hi`.
        public var inputGate: Gate
        /// f: Flax `if`, `hf`.
        public var forgetGate: Gate
        /// g (the candidate cell value): Flax `ig`, `hg`.
        public var cellGate: Gate
        /// o: Flax `io`, `ho`.
        public var outputGate: Gate

        public init(inputGate: Gate, forgetGate: Gate, cellGate: Gate, outputGate: Gate) {
            self.inputGate = inputGate
            self.forgetGate = forgetGate
            self.cellGate = cellGate
            self.outputGate = outputGate
        }

        /// Input width.
        public var inputSize: Int { inputGate.inputKernel.shape[0] }
        /// Hidden width H.
        public var hiddenSize: Int { inputGate.recurrentKernel.shape[0] }
        /// The gates in the order i, f, g, o.
        var gates: [Gate] { [inputGate, forgetGate, cellGate, outputGate] }
    }

    /// What backpropagation through time needs from the forward pass.
    ///
    /// The per-step tensors are time-major: row `t B + b` holds sequence b at
    /// step t, so the rows one time step reads or writes are contiguous (the
    /// backward time loop streams them instead of gathering `[B, L, H]` rows
    /// that lie `L H` apart).
    public struct Cache: Sendable {
        /// The input sequence, `[B, L, in]` (`[L, B, in]` when `inputLayout`
        /// is time-major).
        public var input: Tensor
        /// h after each step, `[B, L, H]` (the layer's output; `[L, B, H]`
        /// when `outputLayout` is time-major).
        public var hiddens: Tensor
        /// `[L B, 4H]`: row `t B + b` holds the activated gates i, f, g, o
        /// (H values each, in that order) of sequence b at step t.
        public var gates: Tensor
        /// `[L B, H]`: c after step t of sequence b in row `t B + b`.
        public var cellsByStep: Tensor
        /// `[L B, H]`: tanh(c) after each step, time-major like `cellsByStep`,
        /// kept so that the backward pass need not recompute it.
        public var tanhCellsByStep: Tensor
        /// The layout of `input` (and of the backward pass's dL/dx).
        public var inputLayout: SequenceLayout = .batchMajor
        /// The layout of `hiddens` (and of the backward pass's dHiddens and dCells).
        public var outputLayout: SequenceLayout = .batchMajor

        /// c after each step, `[B, L, H]` (rearranged from `cellsByStep`).
        public var cells: Tensor {
            let (batch, length, hiddenSize) = outputLayout.dimensions(of: hiddens)
            return LSTM.rearranged(Tensor(shape: [length, batch, hiddenSize], storage: cellsByStep.storage),
                                   from: .timeMajor, to: .batchMajor)
        }
    }

    /// Runs the layer over `x` (`[B, L, in]`) from a zero carry. Returns h
    /// after every step (`[B, L, H]`, the layer's output) and the cache (c
    /// after every step is `cache.cells`).
    /// The scalar reference kernel; `forwardFast` is its bit-identical twin.
    public static func forwardReference(_ x: Tensor, parameters p: Parameters) -> (hiddens: Tensor, cache: Cache) {
        precondition(x.rank == 3, "LSTM expects [B, L, in], got \(x.shape)")
        let (batch, length, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
        let hiddenSize = p.hiddenSize
        for gate in p.gates {
            precondition(gate.inputKernel.shape == [inputSize, hiddenSize]
                         && gate.recurrentKernel.shape == [hiddenSize, hiddenSize]
                         && gate.recurrentBias.shape == [hiddenSize],
                         "LSTM gate shapes do not match input \(inputSize), hidden \(hiddenSize)")
        }
        let gates = p.gates
        var hiddens = Tensor.zeros([batch, length, hiddenSize])
        var activated = Tensor.zeros([length * batch, 4 * hiddenSize])
        var cells = Tensor.zeros([length * batch, hiddenSize])
        var tanhCells = Tensor.zeros([length * batch, hiddenSize])
        // Pre-activations of the four gates for one (b, t), gate-major.
        var preactivation = [Double](repeating: 0, count: 4 * hiddenSize)
        for t in 0..<length {
            for b in 0..<batch {
                let xRow = (b * length + t) * inputSize
                let row = (b * length + t) * hiddenSize
                let previousRow = (b * length + t - 1) * hiddenSize   // valid only for t > 0
                let step = t * batch + b                              // time-major row of (b, t)
                let previousStep = step - batch                       // valid only for t > 0
                // a_gate = x W_i + h_prev W_h + b_h (h_prev = 0 at t = 0).
                for (gateIndex, gate) in gates.enumerated() {
                    let base = gateIndex * hiddenSize
                    for j in 0..<hiddenSize { preactivation[base + j] = gate.recurrentBias.storage[j] }
                    for i in 0..<inputSize {
                        let xi = x.storage[xRow + i]
                        for j in 0..<hiddenSize {
                            preactivation[base + j] += xi * gate.inputKernel.storage[i * hiddenSize + j]
                        }
                    }
                    if t > 0 {
                        for k in 0..<hiddenSize {
                            let hk = hiddens.storage[previousRow + k]
                            for j in 0..<hiddenSize {
                                preactivation[base + j] += hk * gate.recurrentKernel.storage[k * hiddenSize + j]
                            }
                        }
                    }
                }
                // Gates, then the new carry.
                for j in 0..<hiddenSize {
                    let i = Elementary.sigmoid(preactivation[j])
                    let f = Elementary.sigmoid(preactivation[hiddenSize + j])
                    let g = Elementary.tanh(preactivation[2 * hiddenSize + j])
                    let o = Elementary.sigmoid(preactivation[3 * hiddenSize + j])
                    let cPrevious = t > 0 ? cells.storage[previousStep * hiddenSize + j] : 0
                    let c = f * cPrevious + i * g
                    let tanhC = Elementary.tanh(c)
                    cells.storage[step * hiddenSize + j] = c
                    tanhCells.storage[step * hiddenSize + j] = tanhC
                    hiddens.storage[row + j] = o * tanhC
                    activated.storage[step * 4 * hiddenSize + j] = i
                    activated.storage[step * 4 * hiddenSize + hiddenSize + j] = f
                    activated.storage[step * 4 * hiddenSize + 2 * hiddenSize + j] = g
                    activated.storage[step * 4 * hiddenSize + 3 * hiddenSize + j] = o
                }
            }
        }
        let cache = Cache(input: x, hiddens: hiddens, gates: activated, cellsByStep: cells, tanhCellsByStep: tanhCells)
        return (hiddens, cache)
    }

    /// Backpropagation through time. `dHiddens` (`[B, L, H]`) is the upstream
    /// gradient of h after each step (the layer output, plus any hidden-state
    /// output); `dCells` (optional, `[B, L, H]`) that of c after each step.
    /// Returns dL/dx (`[B, L, in]`) and the parameter gradients. The scalar
    /// reference kernel; `backwardFast` is its bit-identical twin.
    ///
    /// Going backwards with carries `dh_next`, `dc_next` (zero after the last step):
    /// `dh = dHiddens_t + dh_next`, `dc = dCells_t + dc_next + dh o (1 - tanh(c)^2)`,
    /// `da_i = dc g i (1-i)`, `da_f = dc c_prev f (1-f)`, `da_g = dc i (1-g^2)`,
    /// `da_o = dh tanh(c) o (1-o)`; then `dc_next = dc f`,
    /// `dh_next = sum_gates da W_h^T`, `dx_t = sum_gates da W_i^T`,
    /// `dW_i += x_t^T da`, `dW_h += h_prev^T da`, `db_h += da`.
    public static func backwardReference(dHiddens: Tensor, dCells: Tensor?, cache: Cache,
                                         parameters p: Parameters) -> (input: Tensor, parameters: Parameters) {
        let x = cache.input
        let (batch, length, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
        let hiddenSize = p.hiddenSize
        precondition(dHiddens.shape == [batch, length, hiddenSize], "LSTM hidden gradient \(dHiddens.shape)")
        if let dCells { precondition(dCells.shape == [batch, length, hiddenSize], "LSTM cell gradient \(dCells.shape)") }
        let gates = p.gates
        let (cells, hiddens, activated) = (cache.cellsByStep, cache.hiddens, cache.gates)

        var dx = Tensor.zeros(like: x)
        var dInputKernels = [Tensor](repeating: .zeros([inputSize, hiddenSize]), count: 4)
        var dRecurrentKernels = [Tensor](repeating: .zeros([hiddenSize, hiddenSize]), count: 4)
        var dBiases = [Tensor](repeating: .zeros([hiddenSize]), count: 4)
        // Gradients flowing into step t from step t + 1, per sequence.
        var dhNext = Tensor.zeros([batch, hiddenSize])
        var dcNext = Tensor.zeros([batch, hiddenSize])
        // Pre-activation gradients of the four gates for one (b, t), gate-major.
        var dPreactivation = [Double](repeating: 0, count: 4 * hiddenSize)
        for t in stride(from: length - 1, through: 0, by: -1) {
            for b in 0..<batch {
                let xRow = (b * length + t) * inputSize
                let row = (b * length + t) * hiddenSize
                let previousRow = (b * length + t - 1) * hiddenSize   // valid only for t > 0
                let carryRow = b * hiddenSize
                let step = t * batch + b                              // time-major row of (b, t)
                let previousStep = step - batch                       // valid only for t > 0
                // Through h = o tanh(c) and c = f c_prev + i g to the gate pre-activations.
                for j in 0..<hiddenSize {
                    let i = activated.storage[step * 4 * hiddenSize + j]
                    let f = activated.storage[step * 4 * hiddenSize + hiddenSize + j]
                    let g = activated.storage[step * 4 * hiddenSize + 2 * hiddenSize + j]
                    let o = activated.storage[step * 4 * hiddenSize + 3 * hiddenSize + j]
                    let tanhC = Elementary.tanh(cells.storage[step * hiddenSize + j])
                    let cPrevious = t > 0 ? cells.storage[previousStep * hiddenSize + j] : 0
                    let dh = dHiddens.storage[row + j] + dhNext.storage[carryRow + j]
                    var dc = dcNext.storage[carryRow + j] + dh * o * (1 - tanhC * tanhC)
                    if let dCells { dc += dCells.storage[row + j] }
                    dPreactivation[j] = dc * g * i * (1 - i)
                    dPreactivation[hiddenSize + j] = dc * cPrevious * f * (1 - f)
                    dPreactivation[2 * hiddenSize + j] = dc * i * (1 - g * g)
                    dPreactivation[3 * hiddenSize + j] = dh * tanhC * o * (1 - o)
                    dcNext.storage[carryRow + j] = dc * f
                }
                // Through the affine maps: input, recurrent kernel, bias.
                for j in 0..<hiddenSize { dhNext.storage[carryRow + j] = 0 }
                for (gateIndex, gate) in gates.enumerated() {
                    let base = gateIndex * hiddenSize
                    for j in 0..<hiddenSize { dBiases[gateIndex].storage[j] += dPreactivation[base + j] }
                    // dx_t and dh_next: one sum from zero over all 4H
                    // pre-activations, gate by gate, j ascending (Docs/layers.md).
                    for i in 0..<inputSize {
                        let xi = x.storage[xRow + i]
                        for j in 0..<hiddenSize {
                            let da = dPreactivation[base + j]
                            dx.storage[xRow + i] += da * gate.inputKernel.storage[i * hiddenSize + j]
                            dInputKernels[gateIndex].storage[i * hiddenSize + j] += xi * da
                        }
                    }
                    if t > 0 {
                        for k in 0..<hiddenSize {
                            let hk = hiddens.storage[previousRow + k]
                            for j in 0..<hiddenSize {
                                let da = dPreactivation[base + j]
                                dhNext.storage[carryRow + k] += da * gate.recurrentKernel.storage[k * hiddenSize + j]
                                dRecurrentKernels[gateIndex].storage[k * hiddenSize + j] += hk * da
                            }
                        }
                    }
                }
            }
        }
        func gradient(_ index: Int) -> Gate {
            Gate(inputKernel: dInputKernels[index], recurrentKernel: dRecurrentKernels[index],
                 recurrentBias: dBiases[index])
        }
        let gradients = Parameters(inputGate: gradient(0), forgetGate: gradient(1),
                                   cellGate: gradient(2), outputGate: gradient(3))
        return (dx, gradients)
    }

}
