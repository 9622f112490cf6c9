/// The extension point for neural architectures: a torso maps the embedded
/// sequence `[B, L, E]` to outputs `[B, L, O]` between the predictor's
/// embedding and unembedding (the original's `PredictorTorso`).
///
/// A new architecture is one new type conforming to `Torso`, one case in
/// `makeTorso`, and one line in the tests' list of torsos
/// (Tests/ThunniniTests/Torsos/TorsoCases.swift).
public protocol Torso: Sendable {
    /// The Flax module name under which its parameters live
    /// (`params/<moduleName>/...`), e.g. `LSTMPredictorTorso_0`.
    var moduleName: String { get }

    /// Width O of the outputs for inputs of width `inputSize`.
    func outputSize(inputSize: Int) -> Int

    /// Freshly initialised parameters under their full paths
    /// (`params/<moduleName>/...`), with the original's distributions.
    func initialParameters(inputSize: Int, key: RandomKey) -> [String: Tensor]

    /// Forward pass; with `returnStates` also the hidden states under the
    /// original's names (`layer{n}_cell`, ...), each `[B, L, H]`.
    func forward(_ x: Tensor, parameters: ParameterTree, returnStates: Bool) throws -> TorsoForward

    /// Forward pass for evaluation: the same outputs (and states) as
    /// `forward`, bit for bit, but its cache need not serve `backward`, so a
    /// torso may skip storing it.
    func forwardWithoutCache(_ x: Tensor, parameters: ParameterTree, returnStates: Bool) throws -> TorsoForward

    /// Vector-Jacobian product of the outputs: the gradient with respect to
    /// the input and to every parameter of the torso (under full paths).
    func backward(_ dOutput: Tensor, forward: TorsoForward, parameters: ParameterTree) -> (input: Tensor, parameters: [String: Tensor])

    /// The gradient with respect to the input alone (for prefix tuning, which
    /// needs no parameter gradient): equal to `backward(...).input` bit for
    /// bit; a torso may skip the parameter gradients' products.
    func inputGradient(_ dOutput: Tensor, forward: TorsoForward, parameters: ParameterTree) -> Tensor
}

extension Torso {
    /// By default the whole forward pass.
    public func forwardWithoutCache(_ x: Tensor, parameters: ParameterTree, returnStates: Bool) throws -> TorsoForward {
        try forward(x, parameters: parameters, returnStates: returnStates)
    }

    /// By default the whole backward pass, keeping only the input gradient.
    public func inputGradient(_ dOutput: Tensor, forward: TorsoForward, parameters: ParameterTree) -> Tensor {
        backward(dOutput, forward: forward, parameters: parameters).input
    }
}

/// What a torso's forward pass returns: outputs, optional hidden states, and
/// whatever its backward pass needs (opaque to everyone but the torso).
public struct TorsoForward: @unchecked Sendable {
    /// `[B, L, O]`.
    public var output: Tensor
    /// Hidden states by name, each `[B, L, H]`, when asked for.
    public var states: [String: Tensor]?
    /// The torso's own cache for `backward`.
    let cache: Any

    init(output: Tensor, states: [String: Tensor]?, cache: Any) {
        self.output = output
        self.states = states
        self.cache = cache
    }
}

/// The torso described by a config (the original's `builders.build_torso`).
public func makeTorso(_ config: TorsoConfig) -> any Torso {
    switch config {
    case .linear(let c): LinearTorso(config: c)
    case .lstm(let c): LSTMTorso(config: c)
    case .transformer(let c): TransformerTorso(config: c)
    }
}
