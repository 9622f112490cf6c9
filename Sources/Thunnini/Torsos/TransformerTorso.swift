/// The original's `TransformerPredictorTorso`: decoder only, post-LN, width E
/// throughout. Sinusoidal positions are added over the whole length (BOS and
/// prefix included); then per layer n with hidden size H:
///
///     a = MHA(LN_{3n}(x));  x = x + a
///     x = x + Dense_{2n+1}(GELU(Dense_{2n}(LN_{3n+1}(x))))     (E -> H*w -> E)
///     x = LN_{3n+2}(x)
///
/// Hidden state `layer{n}_attention_out` is `a`. Flax numbers the
/// `LayerNorm_k`, `Dense_k` and `MultiheadAttention_n` modules of the torso in
/// creation order, which gives the indices above.
public struct TransformerTorso: Torso {
    public let config: TransformerTorsoConfig
    public var moduleName: String { "TransformerPredictorTorso_0" }

    public init(config: TransformerTorsoConfig) { self.config = config }

    func path(_ module: String, _ name: String) -> String { "params/\(moduleName)/\(module)/\(name)" }

    /// The four attention projections, by Flax name.
    static let projections = ["query", "key", "value", "attention_weights"]

    func denseWithLoRA(_ layer: Int, _ name: String, _ p: ParameterTree) -> DenseWithLoRA.Parameters {
        let base = "MultiheadAttention_\(layer)/\(name)"
        return DenseWithLoRA.Parameters(
            kernel: p[path(base, "\(name)/kernel")],
            bias: config.useBias ? p[path(base, "\(name)/bias")] : nil,
            loraInKernel: config.useLoRA ? p[path(base, "LoRA_in_\(name)/kernel")] : nil,
            loraOutKernel: config.useLoRA ? p[path(base, "LoRA_out_\(name)/kernel")] : nil,
            loraOutBias: config.useLoRA && config.useBias ? p[path(base, "LoRA_out_\(name)/bias")] : nil)
    }

    func attentionParameters(_ layer: Int, _ p: ParameterTree) -> MultiHeadAttention.Parameters {
        let attention = "MultiheadAttention_\(layer)"
        return MultiHeadAttention.Parameters(
            query: denseWithLoRA(layer, "query", p), key: denseWithLoRA(layer, "key", p),
            value: denseWithLoRA(layer, "value", p), output: denseWithLoRA(layer, "attention_weights", p),
            queryNormScale: config.normalizeQK ? p[path(attention, "LayerNorm_0/scale")] : nil,
            keyNormScale: config.normalizeQK ? p[path(attention, "LayerNorm_1/scale")] : nil)
    }

    /// Writes the gradients of one attention block under their full paths.
    func storeAttentionGradients(_ layer: Int, _ g: MultiHeadAttention.Parameters, into gradients: inout [String: Tensor]) {
        let attention = "MultiheadAttention_\(layer)"
        for (name, dense) in zip(Self.projections, [g.query, g.key, g.value, g.output]) {
            let base = "\(attention)/\(name)"
            gradients[path(base, "\(name)/kernel")] = dense.kernel
            if let bias = dense.bias { gradients[path(base, "\(name)/bias")] = bias }
            if let a = dense.loraInKernel { gradients[path(base, "LoRA_in_\(name)/kernel")] = a }
            if let b = dense.loraOutKernel { gradients[path(base, "LoRA_out_\(name)/kernel")] = b }
            if let bb = dense.loraOutBias { gradients[path(base, "LoRA_out_\(name)/bias")] = bb }
        }
        if let s = g.queryNormScale { gradients[path(attention, "LayerNorm_0/scale")] = s }
        if let s = g.keyNormScale { gradients[path(attention, "LayerNorm_1/scale")] = s }
    }

    public func outputSize(inputSize: Int) -> Int { inputSize }

    /// Dense and LoRA_in kernels lecun normal; LoRA_out kernels, all biases
    /// zero; LayerNorm scales one.
    public func initialParameters(inputSize width: Int, key: RandomKey) -> [String: Tensor] {
        var p: [String: Tensor] = [:]
        for (layer, hidden) in config.hiddenSizes.enumerated() {
            let keys = key.fold(in: UInt64(layer)).split(into: 6)
            for (i, name) in Self.projections.enumerated() {
                let base = "MultiheadAttention_\(layer)/\(name)"
                let projectionKeys = keys[i].split(into: 2)
                p[path(base, "\(name)/kernel")] = Initializers.lecunNormal(shape: [width, width], key: projectionKeys[0])
                if config.useBias { p[path(base, "\(name)/bias")] = Tensor(shape: [width]) }
                if config.useLoRA {
                    p[path(base, "LoRA_in_\(name)/kernel")] = Initializers.lecunNormal(shape: [width, config.reducedRank], key: projectionKeys[1])
                    p[path(base, "LoRA_out_\(name)/kernel")] = Tensor(shape: [config.reducedRank, width])
                    if config.useBias { p[path(base, "LoRA_out_\(name)/bias")] = Tensor(shape: [width]) }
                }
            }
            if config.normalizeQK {
                p[path("MultiheadAttention_\(layer)", "LayerNorm_0/scale")] = Tensor(shape: [width], repeating: 1)
                p[path("MultiheadAttention_\(layer)", "LayerNorm_1/scale")] = Tensor(shape: [width], repeating: 1)
            }
            for k in 0..<3 {
                p[path("LayerNorm_\(3 * layer + k)", "scale")] = Tensor(shape: [width], repeating: 1)
                p[path("LayerNorm_\(3 * layer + k)", "bias")] = Tensor(shape: [width])
            }
            let widened = hidden * config.wideningFactor
            p[path("Dense_\(2 * layer)", "kernel")] = Initializers.lecunNormal(shape: [width, widened], key: keys[4])
            p[path("Dense_\(2 * layer + 1)", "kernel")] = Initializers.lecunNormal(shape: [widened, width], key: keys[5])
            if config.useBias {
                p[path("Dense_\(2 * layer)", "bias")] = Tensor(shape: [widened])
                p[path("Dense_\(2 * layer + 1)", "bias")] = Tensor(shape: [width])
            }
        }
        return p
    }

    /// What one layer's backward pass needs.
    struct LayerCache {
        var input: Tensor                       // x entering the layer
        var attentionNorm: LayerNorm.Cache
        var attentionInput: Tensor              // LN_{3n}(x)
        var attention: MultiHeadAttention.Cache
        var afterAttention: Tensor              // x + a
        var mlpNorm: LayerNorm.Cache
        var mlpInput: Tensor                    // LN_{3n+1}(x + a)
        var widened: Tensor                     // Dense_{2n} output, before GELU
        var activated: Tensor                   // GELU output
        var geluTanh: Tensor?                   // GELU's tanh(u), so the backward pass need not recompute it
        var beforeFinalNorm: Tensor             // x + a + mlp
        var finalNorm: LayerNorm.Cache
    }

    func layerNorm(_ index: Int, _ p: ParameterTree) -> (scale: Tensor, bias: Tensor) {
        (p[path("LayerNorm_\(index)", "scale")], p[path("LayerNorm_\(index)", "bias")])
    }

    func dense(_ index: Int, _ p: ParameterTree) -> (kernel: Tensor, bias: Tensor?) {
        (p[path("Dense_\(index)", "kernel")], config.useBias ? p[path("Dense_\(index)", "bias")] : nil)
    }

    public func forward(_ x: Tensor, parameters p: ParameterTree, returnStates: Bool) throws -> TorsoForward {
        try forward(x, parameters: p, returnStates: returnStates, forBackward: true)
    }

    /// The forward pass without the caches only the backward pass reads;
    /// the same outputs, bit for bit.
    public func forwardWithoutCache(_ x: Tensor, parameters p: ParameterTree, returnStates: Bool) throws -> TorsoForward {
        try forward(x, parameters: p, returnStates: returnStates, forBackward: false)
    }

    /// The forward pass; `forBackward` keeps the layer caches (with GELU's
    /// tanh) for `backward`. Without it no cache is kept, and each layer's
    /// intermediate tensors (the attention probabilities above all) live
    /// only while the layer runs.
    func forward(_ x: Tensor, parameters p: ParameterTree, returnStates: Bool, forBackward: Bool) throws -> TorsoForward {
        var states: [String: Tensor]? = returnStates ? [:] : nil
        var caches: [LayerCache] = []
        var h = PositionalEncoding.forward(x)
        if !forBackward {
            for layer in config.hiddenSizes.indices {
                let a = try layerOutputOnly(layer, &h, parameters: p)
                states?["layer\(layer)_attention_out"] = a
            }
            return TorsoForward(output: h, states: states, cache: caches)
        }
        for layer in config.hiddenSizes.indices {
            let ln0 = layerNorm(3 * layer, p), ln1 = layerNorm(3 * layer + 1, p), ln2 = layerNorm(3 * layer + 2, p)
            let (attentionInput, attentionNorm) = LayerNorm.forward(h, scale: ln0.scale, bias: ln0.bias)
            let (a, attention) = try MultiHeadAttention.forward(attentionInput, parameters: attentionParameters(layer, p),
                                                               headCount: config.numAttentionHeads)
            let afterAttention = h + a
            let (mlpInput, mlpNorm) = LayerNorm.forward(afterAttention, scale: ln1.scale, bias: ln1.bias)
            let d0 = dense(2 * layer, p), d1 = dense(2 * layer + 1, p)
            let (widened, activated, geluTanh) = GELU.forwardAfterDense(mlpInput, kernel: d0.kernel, bias: d0.bias,
                                                                        keepingTanh: forBackward)
            let beforeFinalNorm = afterAttention + Dense.forward(activated, kernel: d1.kernel, bias: d1.bias)
            let (out, finalNorm) = LayerNorm.forward(beforeFinalNorm, scale: ln2.scale, bias: ln2.bias)
            caches.append(LayerCache(input: h, attentionNorm: attentionNorm, attentionInput: attentionInput,
                                     attention: attention, afterAttention: afterAttention, mlpNorm: mlpNorm,
                                     mlpInput: mlpInput, widened: widened, activated: activated, geluTanh: geluTanh,
                                     beforeFinalNorm: beforeFinalNorm, finalNorm: finalNorm))
            states?["layer\(layer)_attention_out"] = a
            h = out
        }
        return TorsoForward(output: h, states: states, cache: caches)
    }

    /// Layer `layer` of `forward` without its cache: replaces `h` by the
    /// layer's output and returns its attention output `a`; the same
    /// operations as the cached pass, so the same bits.
    func layerOutputOnly(_ layer: Int, _ h: inout Tensor, parameters p: ParameterTree) throws -> Tensor {
        let ln0 = layerNorm(3 * layer, p), ln1 = layerNorm(3 * layer + 1, p), ln2 = layerNorm(3 * layer + 2, p)
        let attentionInput = LayerNorm.forward(h, scale: ln0.scale, bias: ln0.bias).output
        let a = try MultiHeadAttention.forwardOutputOnly(attentionInput, parameters: attentionParameters(layer, p),
                                                         headCount: config.numAttentionHeads)
        let afterAttention = h + a
        let mlpInput = LayerNorm.forward(afterAttention, scale: ln1.scale, bias: ln1.bias).output
        let d0 = dense(2 * layer, p), d1 = dense(2 * layer + 1, p)
        let activated = GELU.forwardAfterDense(mlpInput, kernel: d0.kernel, bias: d0.bias, keepingTanh: false).activated
        let beforeFinalNorm = afterAttention + Dense.forward(activated, kernel: d1.kernel, bias: d1.bias)
        h = LayerNorm.forward(beforeFinalNorm, scale: ln2.scale, bias: ln2.bias).output
        return a
    }

    public func backward(_ dOutput: Tensor, forward: TorsoForward, parameters p: ParameterTree) -> (input: Tensor, parameters: [String: Tensor]) {
        backwardPass(dOutput, forward: forward, parameters: p, parameterGradients: true)
    }

    /// The input gradient without any weight-gradient product (the MLP's,
    /// the attention projections' and their adapters'); the same bits as
    /// `backward(...).input`, since every input gradient is computed by the
    /// same operations either way.
    public func inputGradient(_ dOutput: Tensor, forward: TorsoForward, parameters p: ParameterTree) -> Tensor {
        backwardPass(dOutput, forward: forward, parameters: p, parameterGradients: false).input
    }

    /// The backward pass; without `parameterGradients` the Dense layers and
    /// the attention compute their input gradients alone and no parameter
    /// gradient is returned.
    func backwardPass(_ dOutput: Tensor, forward: TorsoForward, parameters p: ParameterTree,
                      parameterGradients: Bool) -> (input: Tensor, parameters: [String: Tensor]) {
        guard let caches = forward.cache as? [LayerCache], caches.count == config.hiddenSizes.count else {
            preconditionFailure("TransformerTorso: backward needs the cache of forward(...), not of forwardWithoutCache(...)")
        }
        var gradients: [String: Tensor] = [:]
        var dh = dOutput
        for layer in config.hiddenSizes.indices.reversed() {
            let c = caches[layer]
            let ln0 = layerNorm(3 * layer, p), ln1 = layerNorm(3 * layer + 1, p), ln2 = layerNorm(3 * layer + 2, p)
            let d0 = dense(2 * layer, p), d1 = dense(2 * layer + 1, p)
            func denseBackward(_ dy: Tensor, x: Tensor, kernel: Tensor) -> (input: Tensor, all: Dense.Gradients?) {
                Dense.backward(dy, x: x, kernel: kernel, hasBias: config.useBias, parameterGradients: parameterGradients)
            }
            // x_out = LN2(s), s = r + mlp(LN1(r)), r = x + a(LN0(x)).
            let gFinal = LayerNorm.backward(dh, x: c.beforeFinalNorm, scale: ln2.scale, cache: c.finalNorm, hasBias: true)
            let dBeforeFinal = gFinal.input
            // Dense_{2n+1}'s input gradient and GELU's backward in one pass.
            let dWidened = GELU.backwardThroughDense(dBeforeFinal, kernel: d1.kernel, x: c.widened, tanhOfU: c.geluTanh)
            let gDense0 = denseBackward(dWidened, x: c.mlpInput, kernel: d0.kernel)
            let gMlpNorm = LayerNorm.backward(gDense0.input, x: c.afterAttention, scale: ln1.scale, cache: c.mlpNorm, hasBias: true)
            let dAfterAttention = dBeforeFinal + gMlpNorm.input
            let gAttention = MultiHeadAttention.backward(dAfterAttention, cache: c.attention, parameters: attentionParameters(layer, p),
                                                         parameterGradients: parameterGradients)
            let gAttentionNorm = LayerNorm.backward(gAttention.input, x: c.input, scale: ln0.scale, cache: c.attentionNorm, hasBias: true)
            dh = dAfterAttention + gAttentionNorm.input

            guard parameterGradients else { continue }
            for (index, g) in [(3 * layer, gAttentionNorm), (3 * layer + 1, gMlpNorm), (3 * layer + 2, gFinal)] {
                gradients[path("LayerNorm_\(index)", "scale")] = g.scale
                gradients[path("LayerNorm_\(index)", "bias")] = g.bias
            }
            let gDense1 = Dense.parameterGradients(dBeforeFinal, x: c.activated, kernel: d1.kernel, hasBias: config.useBias)
            for (index, g) in [(2 * layer, (kernel: gDense0.all!.kernel, bias: gDense0.all!.bias)), (2 * layer + 1, gDense1)] {
                gradients[path("Dense_\(index)", "kernel")] = g.kernel
                if let bias = g.bias { gradients[path("Dense_\(index)", "bias")] = bias }
            }
            storeAttentionGradients(layer, gAttention.parameters!, into: &gradients)
        }
        return (PositionalEncoding.backward(dh), gradients)
    }
}
