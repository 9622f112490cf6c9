/// The original's `LinearPredictorTorso`: one Dense layer with bias per entry
/// of `hidden_sizes`, no activation. It has no hidden states.
///
/// Parameters: `params/LinearPredictorTorso_0/Dense_{n}/{kernel,bias}`.
public struct LinearTorso: Torso {
    public let config: LinearTorsoConfig
    public var moduleName: String { "LinearPredictorTorso_0" }

    public init(config: LinearTorsoConfig) { self.config = config }

    func path(_ layer: Int, _ name: String) -> String { "params/\(moduleName)/Dense_\(layer)/\(name)" }

    public func outputSize(inputSize: Int) -> Int { config.hiddenSizes.last ?? inputSize }

    public func initialParameters(inputSize: Int, key: RandomKey) -> [String: Tensor] {
        var parameters: [String: Tensor] = [:]
        var width = inputSize
        let keys = key.split(into: config.hiddenSizes.count)
        for (layer, hidden) in config.hiddenSizes.enumerated() {
            parameters[path(layer, "kernel")] = Initializers.lecunNormal(shape: [width, hidden], key: keys[layer])
            parameters[path(layer, "bias")] = Tensor(shape: [hidden])
            width = hidden
        }
        return parameters
    }

    public func forward(_ x: Tensor, parameters: ParameterTree, returnStates: Bool) throws -> TorsoForward {
        if returnStates { throw ThunniniError("the Linear torso has no hidden states (return_hidden_states must be false)") }
        var inputs: [Tensor] = []
        var h = x
        for layer in config.hiddenSizes.indices {
            inputs.append(h)
            h = Dense.forward(h, kernel: parameters[path(layer, "kernel")], bias: parameters[path(layer, "bias")])
        }
        return TorsoForward(output: h, states: nil, cache: inputs)
    }

    public func backward(_ dOutput: Tensor, forward: TorsoForward, parameters: ParameterTree) -> (input: Tensor, parameters: [String: Tensor]) {
        let inputs = forward.cache as! [Tensor]
        var gradients: [String: Tensor] = [:]
        var dh = dOutput
        for layer in config.hiddenSizes.indices.reversed() {
            let g = Dense.backward(dh, x: inputs[layer], kernel: parameters[path(layer, "kernel")], hasBias: true)
            gradients[path(layer, "kernel")] = g.kernel
            gradients[path(layer, "bias")] = g.bias
            dh = g.input
        }
        return (dh, gradients)
    }
}
