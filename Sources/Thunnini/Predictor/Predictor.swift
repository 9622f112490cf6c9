/// The original's `Predictor`: a torso wrapped between an embedding and an
/// unembedding, with the four prefix types. See Docs/predictor.md.
///
/// Forward pass for one-hot sequences S (B x T x V) and a prefix P:
/// 1. `prepend`: P (K x V) is put before every sequence; `simplex`: softmax(P)
///    row-wise, then the same; `embedding`: see step 4.
/// 2. An all-zero BOS vector is put at time 0.
/// 3. Embedding: Dense V -> E with bias (so BOS embeds to the bias).
/// 4. `embedding`: P (K x E) is inserted after the BOS embedding.
/// 5. The torso maps B x L x E to B x L x O (L = 1 + K + T).
/// 6. Unembedding: Dense O -> V with bias, the logits.
/// 7. `logits = out[:, K ..< L-1]`, `prefix_logits = out[:, 0 ..< K]`; hidden
///    states are sliced the same way.
/// Loss: mean over the batch of the summed instant log losses of `logits`.
public struct Predictor: Sendable {
    public let config: PredictorConfig
    public let torsoConfig: TorsoConfig
    public let torso: any Torso

    /// A predictor for validated configs.
    public init(config: PredictorConfig, torsoConfig: TorsoConfig) throws {
        try config.validate(with: torsoConfig)
        self.config = config
        self.torsoConfig = torsoConfig
        self.torso = makeTorso(torsoConfig)
    }

    static let embeddingKernel = "params/embedding/kernel", embeddingBias = "params/embedding/bias"
    static let unembeddingKernel = "params/unembedding/kernel", unembeddingBias = "params/unembedding/bias"

    var tokenSize: Int { config.tokenDimensionality }
    var embeddingSize: Int { config.embeddingDimensionality }

    /// Fresh parameters from `seed` (the original's `predictor_init_seed`):
    /// the initialisation key is the second half of `RandomKey(seed).split()`
    /// (as the original's `_, predictor_init_rng = split(PRNGKey(seed))`),
    /// split into three for the embedding, the torso and the unembedding;
    /// kernels lecun normal, biases zero. The pretraining data chain uses the
    /// first half of the data seed's split, so when `predictor_init_seed ==
    /// data_gen_seed` the two never share a key (Docs/random.md, section 6).
    public func initialParameters(seed: Int) -> ParameterTree {
        let keys = Self.initialisationKey(seed: seed).split(into: 3)
        var tree = ParameterTree(torso.initialParameters(inputSize: embeddingSize, key: keys[1]))
        let outputSize = torso.outputSize(inputSize: embeddingSize)
        tree[Self.embeddingKernel] = Initializers.lecunNormal(shape: [tokenSize, embeddingSize], key: keys[0])
        tree[Self.embeddingBias] = Tensor(shape: [embeddingSize])
        tree[Self.unembeddingKernel] = Initializers.lecunNormal(shape: [outputSize, tokenSize], key: keys[2])
        tree[Self.unembeddingBias] = Tensor(shape: [tokenSize])
        return tree
    }

    /// The root key of the initialisation from `seed`: `RandomKey(seed).split().1`.
    public static func initialisationKey(seed: Int) -> RandomKey {
        RandomKey(seed: UInt64(bitPattern: Int64(seed))).split().1
    }

    /// Checks that `parameters` has exactly this predictor's paths and shapes.
    public func checkParameters(_ parameters: ParameterTree, context: String = "parameters") throws {
        try initialParameters(seed: 0).checkSameStructure(as: parameters, context: context)
    }

    /// Everything one forward pass computes, plus what `gradients` needs.
    public struct Output: @unchecked Sendable {
        /// B x T x V unnormalised predictions for the sequence tokens.
        public var logits: Tensor
        /// log_softmax of `logits`.
        public var logProbabilities: Tensor
        /// B x T: `-sum_v onehot * logProbabilities`.
        public var instantLosses: Tensor
        /// Mean over the batch of the summed instant losses.
        public var loss: Double
        /// B x K x V predictions at the prefix positions (nil without prefix).
        public var prefixLogits: Tensor?
        /// Hidden states at the sequence positions (when the torso config asks).
        public var states: [String: Tensor]?
        /// Hidden states at the prefix positions.
        public var prefixStates: [String: Tensor]?

        // Cached for the backward pass.
        let inputs: Tensor            // B x Lx x V: BOS, token prefix, sequences
        let simplexPrefix: Tensor?    // softmax(P) for `simplex`
        let torsoInput: Tensor        // B x L x E
        let torsoForward: TorsoForward
        let prefixLength: Int
    }

    /// Forward pass (see the type's doc). With `forBackward: false`
    /// (evaluation) the torso may skip the cache that `gradients` needs; every
    /// output is the same bit for bit.
    public func forward(parameters p: ParameterTree, sequences: Tensor, prefix: Prefix = .none,
                        forBackward: Bool = true) throws -> Output {
        try checkInputs(sequences: sequences, prefix: prefix)
        let (batch, length, vocab) = (sequences.shape[0], sequences.shape[1], sequences.shape[2])
        let k = prefix.length

        // Steps 1-2: the token-space input with BOS (and a prepended prefix).
        var tokenPrefix: Tensor? = nil
        var simplexPrefix: Tensor? = nil
        switch prefix.type {
        case .prepend: tokenPrefix = prefix.values
        case .simplex:
            simplexPrefix = Softmax.forward(prefix.values!)
            tokenPrefix = simplexPrefix
        case .none, .embedding: break
        }
        let tokenPrefixLength = tokenPrefix?.shape[0] ?? 0
        let inputLength = 1 + tokenPrefixLength + length
        var inputs = Tensor(shape: [batch, inputLength, vocab])
        for b in 0..<batch {
            for t in 0..<tokenPrefixLength {
                for v in 0..<vocab { inputs.storage[(b * inputLength + 1 + t) * vocab + v] = tokenPrefix!.storage[t * vocab + v] }
            }
            for t in 0..<length {
                for v in 0..<vocab {
                    inputs.storage[(b * inputLength + 1 + tokenPrefixLength + t) * vocab + v] = sequences.storage[(b * length + t) * vocab + v]
                }
            }
        }

        // Steps 3-4: embed, and insert an embedding prefix after BOS.
        let embedded = Dense.forward(inputs, kernel: p[Self.embeddingKernel], bias: p[Self.embeddingBias])
        var torsoInput = embedded
        if prefix.type == .embedding {
            let e = embeddingSize
            let total = 1 + k + length
            torsoInput = Tensor(shape: [batch, total, e])
            for b in 0..<batch {
                for i in 0..<e { torsoInput.storage[b * total * e + i] = embedded.storage[b * inputLength * e + i] }
                for t in 0..<k {
                    for i in 0..<e { torsoInput.storage[(b * total + 1 + t) * e + i] = prefix.values!.storage[t * e + i] }
                }
                for t in 0..<length {
                    for i in 0..<e { torsoInput.storage[(b * total + 1 + k + t) * e + i] = embedded.storage[(b * inputLength + 1 + t) * e + i] }
                }
            }
        }

        // Steps 5-6.
        let torsoForward = forBackward
            ? try torso.forward(torsoInput, parameters: p, returnStates: torsoConfig.returnHiddenStates)
            : try torso.forwardWithoutCache(torsoInput, parameters: p, returnStates: torsoConfig.returnHiddenStates)
        let unembedded = Dense.forward(torsoForward.output, kernel: p[Self.unembeddingKernel], bias: p[Self.unembeddingBias])

        // Step 7: slicing.
        let logits = Self.slice(unembedded, from: k, count: length)
        let (losses, logProbabilities) = SoftmaxCrossEntropy.forward(logits: logits, labels: sequences)
        var loss = 0.0
        for x in losses.storage { loss += x }
        loss /= Double(batch)
        let states = torsoForward.states?.mapValues { Self.slice($0, from: k, count: length) }
        let prefixLogits = k > 0 ? Self.slice(unembedded, from: 0, count: k) : nil
        let prefixStates = k > 0 ? torsoForward.states?.mapValues { Self.slice($0, from: 0, count: k) } : nil
        return Output(logits: logits, logProbabilities: logProbabilities, instantLosses: losses, loss: loss,
                      prefixLogits: prefixLogits, states: states, prefixStates: prefixStates,
                      inputs: inputs, simplexPrefix: simplexPrefix, torsoInput: torsoInput,
                      torsoForward: torsoForward, prefixLength: k)
    }

    /// Gradients of `output.loss` with respect to every parameter and to the
    /// prefix (nil for `none`), by the chain rule back through the forward
    /// pass (Docs/predictor.md). With `parameterGradients: false` (prefix
    /// tuning) only the prefix gradient is computed, bit for bit the same, and
    /// the returned parameter tree is empty.
    public func gradients(parameters p: ParameterTree, sequences: Tensor, prefix: Prefix = .none,
                          output: Output, parameterGradients: Bool = true) -> (parameters: ParameterTree, prefix: Tensor?) {
        let (batch, length, vocab) = (sequences.shape[0], sequences.shape[1], sequences.shape[2])
        let k = output.prefixLength
        let totalLength = output.torsoInput.shape[1]

        // d loss / d instant loss = 1/B at every (b, t).
        let dLosses = Tensor(shape: [batch, length], repeating: 1 / Double(batch))
        let dLogits = SoftmaxCrossEntropy.backward(dLosses, logProbabilities: output.logProbabilities, labels: sequences)
        var dUnembedded = Tensor(shape: [batch, totalLength, vocab])
        for b in 0..<batch {
            for t in 0..<length {
                for v in 0..<vocab { dUnembedded.storage[(b * totalLength + k + t) * vocab + v] = dLogits.storage[(b * length + t) * vocab + v] }
            }
        }
        var grads: [String: Tensor] = [:]
        let gUnembedding = Dense.backward(dUnembedded, x: output.torsoForward.output, kernel: p[Self.unembeddingKernel],
                                          hasBias: true, parameterGradients: parameterGradients)
        if let all = gUnembedding.all {
            grads[Self.unembeddingKernel] = all.kernel
            grads[Self.unembeddingBias] = all.bias
        }
        let dTorsoInput: Tensor
        if parameterGradients {
            let gTorso = torso.backward(gUnembedding.input, forward: output.torsoForward, parameters: p)
            grads.merge(gTorso.parameters) { _, new in new }
            dTorsoInput = gTorso.input
        } else {
            dTorsoInput = torso.inputGradient(gUnembedding.input, forward: output.torsoForward, parameters: p)
        }

        // Undo the embedding-prefix insertion: its rows are the prefix's gradient.
        var dEmbedded = dTorsoInput
        var dPrefix: Tensor? = nil
        if prefix.type == .embedding {
            let e = embeddingSize
            let inputLength = output.inputs.shape[1]
            var dP = Tensor(shape: [k, e])
            dEmbedded = Tensor(shape: [batch, inputLength, e])
            for b in 0..<batch {
                for i in 0..<e { dEmbedded.storage[b * inputLength * e + i] = dTorsoInput.storage[b * totalLength * e + i] }
                for t in 0..<k {
                    for i in 0..<e { dP.storage[t * e + i] += dTorsoInput.storage[(b * totalLength + 1 + t) * e + i] }
                }
                for t in 0..<length {
                    for i in 0..<e { dEmbedded.storage[(b * inputLength + 1 + t) * e + i] = dTorsoInput.storage[(b * totalLength + 1 + k + t) * e + i] }
                }
            }
            dPrefix = dP
        }
        // A token-space prefix's gradient: sum over the batch of its input
        // rows. Without parameter gradients the embedding's backward pass is
        // needed only for such a prefix.
        let tokenPrefix = prefix.type == .prepend || prefix.type == .simplex
        guard parameterGradients || tokenPrefix else { return (ParameterTree([:]), dPrefix) }
        let gEmbedding = Dense.backward(dEmbedded, x: output.inputs, kernel: p[Self.embeddingKernel],
                                        hasBias: true, parameterGradients: parameterGradients)
        if let all = gEmbedding.all {
            grads[Self.embeddingKernel] = all.kernel
            grads[Self.embeddingBias] = all.bias
        }
        if tokenPrefix {
            let inputLength = output.inputs.shape[1]
            var dTokens = Tensor(shape: [k, vocab])
            for b in 0..<batch {
                for t in 0..<k {
                    for v in 0..<vocab { dTokens.storage[t * vocab + v] += gEmbedding.input.storage[(b * inputLength + 1 + t) * vocab + v] }
                }
            }
            dPrefix = prefix.type == .simplex ? Softmax.backward(dTokens, probabilities: output.simplexPrefix!) : dTokens
        }
        return (ParameterTree(grads), dPrefix)
    }

    /// `x[:, start ..< start + count, :]` of a B x L x D tensor.
    static func slice(_ x: Tensor, from start: Int, count: Int) -> Tensor {
        let (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2])
        var out = Tensor(shape: [batch, count, width])
        for b in 0..<batch {
            for t in 0..<count {
                for i in 0..<width { out.storage[(b * count + t) * width + i] = x.storage[(b * length + start + t) * width + i] }
            }
        }
        return out
    }

    /// Shape and type checks of user-supplied inputs, as one-line errors.
    func checkInputs(sequences: Tensor, prefix: Prefix) throws {
        guard sequences.rank == 3, sequences.shape[0] > 0, sequences.shape[1] > 0 else {
            throw ThunniniError("sequences must be a non-empty B x T x V array, got shape \(sequences.shape)")
        }
        guard sequences.shape[2] == tokenSize else {
            throw ThunniniError("sequences have token dimension \(sequences.shape[2]), but token_dimensionality is \(tokenSize)")
        }
        switch prefix.type {
        case .none:
            if prefix.values != nil { throw ThunniniError("a prefix was given with prefix type 'none'") }
        case .prepend, .simplex, .embedding:
            guard let values = prefix.values else { throw ThunniniError("prefix type '\(prefix.type.rawValue)' needs a prefix") }
            let width = config.prefixWidth(prefix.type)
            guard values.rank == 2, values.shape[0] > 0, values.shape[1] == width else {
                throw ThunniniError("a '\(prefix.type.rawValue)' prefix must be K x \(width) with K >= 1, got shape \(values.shape)")
            }
            guard values.storage.allSatisfy({ $0.isFinite }) else { throw ThunniniError("the prefix has non-finite values") }
        }
    }
}
