/// The original's `LSTMPredictorTorso`: one Flax `OptimizedLSTMCell` layer
/// per entry of `hidden_sizes`, stacked, each run over the whole sequence
/// from a zero carry. The output is the last layer's h.
///
/// Parameters: `params/LSTMPredictorTorso_0/OptimizedLSTMCell_{n}/{ii,if,ig,io}/kernel`
/// (input kernels, no bias) and `.../{hi,hf,hg,ho}/{kernel,bias}` (recurrent).
/// Hidden states: `layer{n}_cell` and `layer{n}_hidden` after each step.
public struct LSTMTorso: Torso {
    public let config: LSTMTorsoConfig
    public var moduleName: String { "LSTMPredictorTorso_0" }

    public init(config: LSTMTorsoConfig) { self.config = config }

    func path(_ layer: Int, _ gate: String, _ name: String) -> String {
        "params/\(moduleName)/OptimizedLSTMCell_\(layer)/\(gate)/\(name)"
    }

    /// Gate order of the layer's `Parameters`, with the Flax names of its
    /// input and recurrent kernels.
    static let gateNames = [("ii", "hi"), ("if", "hf"), ("ig", "hg"), ("io", "ho")]

    func cellParameters(_ layer: Int, _ parameters: ParameterTree) -> LSTM.Parameters {
        let gates = Self.gateNames.map { input, recurrent in
            LSTM.Gate(inputKernel: parameters[path(layer, input, "kernel")],
                      recurrentKernel: parameters[path(layer, recurrent, "kernel")],
                      recurrentBias: parameters[path(layer, recurrent, "bias")])
        }
        return LSTM.Parameters(inputGate: gates[0], forgetGate: gates[1], cellGate: gates[2], outputGate: gates[3])
    }

    public func outputSize(inputSize: Int) -> Int { config.hiddenSizes.last ?? inputSize }

    /// Input kernels lecun normal, recurrent kernels orthogonal, biases zero
    /// (Flax's OptimizedLSTMCell defaults).
    public func initialParameters(inputSize: Int, key: RandomKey) -> [String: Tensor] {
        var parameters: [String: Tensor] = [:]
        var width = inputSize
        for (layer, hidden) in config.hiddenSizes.enumerated() {
            let keys = key.fold(in: UInt64(layer)).split(into: 8)
            for (g, (input, recurrent)) in Self.gateNames.enumerated() {
                parameters[path(layer, input, "kernel")] = Initializers.lecunNormal(shape: [width, hidden], key: keys[g])
                parameters[path(layer, recurrent, "kernel")] = Initializers.orthogonal(shape: [hidden, hidden], key: keys[4 + g])
                parameters[path(layer, recurrent, "bias")] = Tensor(shape: [hidden])
            }
            width = hidden
        }
        return parameters
    }

    /// Layer n's input and output layouts: time-major between layers (each
    /// step's rows contiguous for the next layer's time loop, forward and
    /// backward), batch-major at the torso's own input and output. Layouts
    /// move rows only, so the results are the same bits as batch-major
    /// throughout (Docs/layers.md, "Layouts").
    func layouts(_ layer: Int) -> (input: LSTM.SequenceLayout, output: LSTM.SequenceLayout) {
        (layer == 0 ? .batchMajor : .timeMajor, layer == config.hiddenSizes.count - 1 ? .batchMajor : .timeMajor)
    }

    public func forward(_ x: Tensor, parameters: ParameterTree, returnStates: Bool) throws -> TorsoForward {
        var caches: [LSTM.Cache] = []
        var states: [String: Tensor]? = returnStates ? [:] : nil
        var h = x
        for layer in config.hiddenSizes.indices {
            let (input, output) = layouts(layer)
            let result = LSTM.forward(h, parameters: cellParameters(layer, parameters), inputLayout: input, outputLayout: output)
            caches.append(result.cache)
            if returnStates {
                states?["layer\(layer)_cell"] = result.cache.cells
                states?["layer\(layer)_hidden"] = LSTM.rearranged(result.hiddens, from: output, to: .batchMajor)
            }
            h = result.hiddens
        }
        return TorsoForward(output: h, states: states, cache: caches)
    }

    /// Without states, each layer's h alone (`LSTM.hiddensOnly`: the same
    /// bits, no cache written); with states, the whole forward pass.
    public func forwardWithoutCache(_ x: Tensor, parameters: ParameterTree, returnStates: Bool) throws -> TorsoForward {
        guard !returnStates else { return try forward(x, parameters: parameters, returnStates: true) }
        var h = x
        for layer in config.hiddenSizes.indices {
            let (input, output) = layouts(layer)
            h = LSTM.hiddensOnly(h, parameters: cellParameters(layer, parameters), inputLayout: input, outputLayout: output)
        }
        return TorsoForward(output: h, states: nil, cache: [LSTM.Cache]())
    }

    /// The layers' caches of a `forward` pass (not of `forwardWithoutCache`).
    private func caches(of forward: TorsoForward) -> [LSTM.Cache] {
        guard let caches = forward.cache as? [LSTM.Cache], caches.count == config.hiddenSizes.count else {
            preconditionFailure("LSTMTorso: backward needs the cache of forward(...), not of forwardWithoutCache(...)")
        }
        return caches
    }

    public func backward(_ dOutput: Tensor, forward: TorsoForward, parameters: ParameterTree) -> (input: Tensor, parameters: [String: Tensor]) {
        let caches = caches(of: forward)
        var gradients: [String: Tensor] = [:]
        var dh = dOutput
        for layer in config.hiddenSizes.indices.reversed() {
            let result = LSTM.backward(dHiddens: dh, dCells: nil, cache: caches[layer], parameters: cellParameters(layer, parameters))
            let gates = [result.parameters.inputGate, result.parameters.forgetGate, result.parameters.cellGate, result.parameters.outputGate]
            for (g, (input, recurrent)) in Self.gateNames.enumerated() {
                gradients[path(layer, input, "kernel")] = gates[g].inputKernel
                gradients[path(layer, recurrent, "kernel")] = gates[g].recurrentKernel
                gradients[path(layer, recurrent, "bias")] = gates[g].recurrentBias
            }
            dh = result.input
        }
        return (dh, gradients)
    }

    /// The input gradient without the layers' weight gradients (the same
    /// time loop, so the same bits as `backward(...).input`).
    public func inputGradient(_ dOutput: Tensor, forward: TorsoForward, parameters: ParameterTree) -> Tensor {
        let caches = caches(of: forward)
        var dh = dOutput
        for layer in config.hiddenSizes.indices.reversed() {
            dh = LSTM.inputGradient(dHiddens: dh, dCells: nil, cache: caches[layer], parameters: cellParameters(layer, parameters))
        }
        return dh
    }
}
