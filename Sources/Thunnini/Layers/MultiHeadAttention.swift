import Foundation

/// Causal multi-head self-attention (the original's `MultiheadAttention`
/// applied with a causal mask and `inputs_q = inputs_kv`).
///
/// For input x of shape `[B, L, E]` and H heads of width `d = E / H`:
/// `q, k, v = DenseWithLoRA(x)` (each E -> E); with normalize_qk, `q` and `k`
/// each go through a scale-only LayerNorm over all E features; head h of a
/// row is features `h d ..< (h+1) d`; `S[t, s] = q_t . k_s / sqrt(d)` for
/// `s <= t`; `P = softmax_s(S)`; `o_t = sum_s P[t, s] v_s`; heads merged
/// back into E features; `y = DenseWithLoRA(o)` (`attention_weights`).
/// Flax modules under `MultiheadAttention_n`: `query`, `key`, `value`,
/// `attention_weights` (each a DenseWithLoRA), `LayerNorm_0` (query norm) and
/// `LayerNorm_1` (key norm), the latter two only with normalize_qk.
/// See Docs/layers.md, "Multi-head attention".
public enum MultiHeadAttention {
    /// The parameters of one attention block; also used for its gradients.
    public struct Parameters: Equatable, Sendable {
        /// The `query` projection.
        public var query: DenseWithLoRA.Parameters
        /// The `key` projection.
        public var key: DenseWithLoRA.Parameters
        /// The `value` projection.
        public var value: DenseWithLoRA.Parameters
        /// The output projection (`attention_weights`).
        public var output: DenseWithLoRA.Parameters
        /// Scale of the query LayerNorm (`LayerNorm_0`), `[E]`; nil unless normalize_qk.
        public var queryNormScale: Tensor?
        /// Scale of the key LayerNorm (`LayerNorm_1`), `[E]`; nil unless normalize_qk.
        public var keyNormScale: Tensor?

        /// Parameters from their parts; the two norm scales come both or neither.
        public init(query: DenseWithLoRA.Parameters, key: DenseWithLoRA.Parameters,
                    value: DenseWithLoRA.Parameters, output: DenseWithLoRA.Parameters,
                    queryNormScale: Tensor? = nil, keyNormScale: Tensor? = nil) {
            precondition((queryNormScale == nil) == (keyNormScale == nil),
                         "attention needs both q/k norm scales or neither")
            self.query = query
            self.key = key
            self.value = value
            self.output = output
            self.queryNormScale = queryNormScale
            self.keyNormScale = keyNormScale
        }

        /// Whether q and k are layer-normalised (normalize_qk).
        public var normalizesQK: Bool { queryNormScale != nil }
    }

    /// What the backward pass needs from the forward pass.
    public struct Cache: Sendable {
        /// Number of heads H.
        public var headCount: Int
        /// Caches of the four projections (`output.input` is the merged heads o).
        public var query, key, value, output: DenseWithLoRA.Cache
        /// Projections before the q/k LayerNorm (its inputs); nil without it.
        public var queryBeforeNorm, keyBeforeNorm: Tensor?
        /// LayerNorm statistics; nil without normalize_qk.
        public var queryNorm, keyNorm: LayerNorm.Cache?
        /// q, k, v as used by the heads, `[B, L, E]`.
        public var q, k, v: Tensor
        /// Attention probabilities `P[b, h, t, s]`, `[B, H, L, L]`, zero for s > t.
        public var probabilities: Tensor
    }

    /// Forward pass on `x` of shape `[B, L, E]`; throws if E is not a multiple
    /// of `headCount`.
    public static func forward(_ x: Tensor, parameters p: Parameters,
                               headCount: Int) throws -> (output: Tensor, cache: Cache) {
        precondition(x.rank == 3, "attention expects [B, L, E], got \(x.shape)")
        let (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2])
        guard headCount > 0, width % headCount == 0 else {
            throw ThunniniError("embedding dimensionality \(width) is not divisible by num_attention_heads \(headCount)")
        }

        let (queryProjected, queryCache) = DenseWithLoRA.forward(x, parameters: p.query)
        let (keyProjected, keyCache) = DenseWithLoRA.forward(x, parameters: p.key)
        let (v, valueCache) = DenseWithLoRA.forward(x, parameters: p.value)
        var q = queryProjected
        var k = keyProjected
        var queryNorm: LayerNorm.Cache?
        var keyNorm: LayerNorm.Cache?
        if let queryScale = p.queryNormScale, let keyScale = p.keyNormScale {
            (q, queryNorm) = LayerNorm.forward(queryProjected, scale: queryScale, bias: nil)
            (k, keyNorm) = LayerNorm.forward(keyProjected, scale: keyScale, bias: nil)
        }

        var probabilities: Tensor, merged: Tensor
        if KernelMode.useReferenceKernels {
            probabilities = Tensor.zeros([batch, headCount, length, length])
            merged = Tensor.zeros([batch, length, width])
            attendReference(q: q, k: k, v: v, headCount: headCount, probabilities: &probabilities, merged: &merged)
        } else {
            (probabilities, merged) = attendFastAllocating(q: q, k: k, v: v, headCount: headCount)
        }

        let (y, outputCache) = DenseWithLoRA.forward(merged, parameters: p.output)
        let cache = Cache(headCount: headCount, query: queryCache, key: keyCache, value: valueCache,
                          output: outputCache,
                          queryBeforeNorm: queryNorm == nil ? nil : queryProjected,
                          keyBeforeNorm: keyNorm == nil ? nil : keyProjected,
                          queryNorm: queryNorm, keyNorm: keyNorm,
                          q: q, k: k, v: v, probabilities: probabilities)
        return (y, cache)
    }

    /// The output of `forward` alone, for a pass with no backward pass: the
    /// same operations on every output (the same bits), without the cache,
    /// so the `[B, H, L, L]` probabilities are never held at once (the fast
    /// kernel keeps one head's per thread).
    public static func forwardOutputOnly(_ x: Tensor, parameters p: Parameters, headCount: Int) throws -> Tensor {
        precondition(x.rank == 3, "attention expects [B, L, E], got \(x.shape)")
        let width = x.shape[2]
        guard headCount > 0, width % headCount == 0 else {
            throw ThunniniError("embedding dimensionality \(width) is not divisible by num_attention_heads \(headCount)")
        }
        guard !KernelMode.useReferenceKernels else { return try forward(x, parameters: p, headCount: headCount).output }
        var q = DenseWithLoRA.forward(x, parameters: p.query).output
        var k = DenseWithLoRA.forward(x, parameters: p.key).output
        let v = DenseWithLoRA.forward(x, parameters: p.value).output
        if let queryScale = p.queryNormScale, let keyScale = p.keyNormScale {
            q = LayerNorm.forward(q, scale: queryScale, bias: nil).output
            k = LayerNorm.forward(k, scale: keyScale, bias: nil).output
        }
        let merged = attendFastMergedOnly(q: q, k: k, v: v, headCount: headCount)
        return DenseWithLoRA.forward(merged, parameters: p.output).output
    }

    /// The heads' scaled dot products, causal softmax and weighted sums: the
    /// scalar reference kernel (`attendFast` is its bit-identical twin).
    /// Writes `P` (`[B, H, L, L]`) and the merged heads (`[B, L, E]`, zero on entry).
    public static func attendReference(q: Tensor, k: Tensor, v: Tensor, headCount: Int,
                                       probabilities: inout Tensor, merged: inout Tensor) {
        let (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2])
        let headWidth = width / headCount
        let inverseSqrtHeadWidth = 1 / Double(headWidth).squareRoot()
        for b in 0..<batch {
            for h in 0..<headCount {
                let headOffset = h * headWidth
                for t in 0..<length {
                    let qRow = (b * length + t) * width + headOffset
                    let pRow = ((b * headCount + h) * length + t) * length
                    // Scaled scores of query t against keys 0...t (the causal mask), and their max.
                    var largest = -Double.infinity
                    for s in 0...t {
                        let kRow = (b * length + s) * width + headOffset
                        var score = 0.0
                        for d in 0..<headWidth { score += q.storage[qRow + d] * k.storage[kRow + d] }
                        score *= inverseSqrtHeadWidth
                        probabilities.storage[pRow + s] = score
                        largest = Swift.max(largest, score)
                    }
                    // Softmax over s in place.
                    var total = 0.0
                    for s in 0...t {
                        let e = Elementary.exp(probabilities.storage[pRow + s] - largest)
                        probabilities.storage[pRow + s] = e
                        total += e
                    }
                    for s in 0...t { probabilities.storage[pRow + s] /= total }
                    // Weighted sum of the values, written into this head's features.
                    for s in 0...t {
                        let weight = probabilities.storage[pRow + s]
                        let vRow = (b * length + s) * width + headOffset
                        for d in 0..<headWidth { merged.storage[qRow + d] += weight * v.storage[vRow + d] }
                    }
                }
            }
        }
    }

    /// Vector-Jacobian product: returns dL/dx (`[B, L, E]`) and the gradients
    /// of every parameter (same structure as `Parameters`). Per head, with
    /// `dO` the merged-head gradient: `dv_s += P[t,s] dO_t`,
    /// `dP[t,s] = dO_t . v_s`, `dS[t,s] = P[t,s] (dP[t,s] - sum_u P[t,u] dP[t,u])`,
    /// `dq_t += sum_s dS[t,s] k_s / sqrt(d)`, `dk_s += sum_t dS[t,s] q_t / sqrt(d)`.
    public static func backward(_ dy: Tensor, cache: Cache,
                                parameters p: Parameters) -> (input: Tensor, parameters: Parameters) {
        let all = backward(dy, cache: cache, parameters: p, parameterGradients: true)
        return (all.input, all.parameters!)
    }

    /// dL/dx alone: the same bits as `backward(...).input`, without the
    /// projections' weight-gradient products (for prefix tuning).
    public static func inputGradient(_ dy: Tensor, cache: Cache, parameters p: Parameters) -> Tensor {
        backward(dy, cache: cache, parameters: p, parameterGradients: false).input
    }

    /// `backward`, or with `parameterGradients: false` the input gradient
    /// alone (`parameters` is then nil): every input gradient is computed
    /// by the same operations either way.
    static func backward(_ dy: Tensor, cache: Cache, parameters p: Parameters,
                         parameterGradients: Bool) -> (input: Tensor, parameters: Parameters?) {
        let (batch, length, width) = (cache.q.shape[0], cache.q.shape[1], cache.q.shape[2])
        precondition(dy.shape == [batch, length, width], "attention upstream gradient \(dy.shape) != [\(batch), \(length), \(width)]")
        let headCount = cache.headCount
        let (q, k, v, probabilities) = (cache.q, cache.k, cache.v, cache.probabilities)

        let (dMerged, outputGradients) = DenseWithLoRA.backward(dy, cache: cache.output, parameters: p.output,
                                                                parameterGradients: parameterGradients)

        var dq = Tensor.zeros([batch, length, width])
        var dk = Tensor.zeros([batch, length, width])
        var dv = Tensor.zeros([batch, length, width])
        if KernelMode.useReferenceKernels {
            attendBackwardReference(dMerged: dMerged, q: q, k: k, v: v, probabilities: probabilities,
                                    headCount: headCount, dq: &dq, dk: &dk, dv: &dv)
        } else {
            attendBackwardFast(dMerged: dMerged, q: q, k: k, v: v, probabilities: probabilities,
                               headCount: headCount, dq: &dq, dk: &dk, dv: &dv)
        }
        return finishBackward(dq: dq, dk: dk, dv: dv, cache: cache, parameters: p, outputGradients: outputGradients)
    }

    /// Vector-Jacobian product of `attendReference` for the merged-head
    /// gradient `dMerged`: adds into dq, dk, dv (zero on entry). The scalar
    /// reference kernel (`attendBackwardFast` is its bit-identical twin).
    public static func attendBackwardReference(dMerged: Tensor, q: Tensor, k: Tensor, v: Tensor, probabilities: Tensor,
                                               headCount: Int, dq: inout Tensor, dk: inout Tensor, dv: inout Tensor) {
        let (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2])
        let headWidth = width / headCount
        let inverseSqrtHeadWidth = 1 / Double(headWidth).squareRoot()
        // dP, then dS, of one query row (reused for every row).
        var dScores = [Double](repeating: 0, count: length)
        for b in 0..<batch {
            for h in 0..<headCount {
                let headOffset = h * headWidth
                for t in 0..<length {
                    let qRow = (b * length + t) * width + headOffset
                    let pRow = ((b * headCount + h) * length + t) * length
                    // dP[t, s] = dO_t . v_s, and dv_s += P[t, s] dO_t.
                    var weighted = 0.0
                    for s in 0...t {
                        let vRow = (b * length + s) * width + headOffset
                        let weight = probabilities.storage[pRow + s]
                        var dp = 0.0
                        for d in 0..<headWidth {
                            let dOut = dMerged.storage[qRow + d]
                            dp += dOut * v.storage[vRow + d]
                            dv.storage[vRow + d] += weight * dOut
                        }
                        dScores[s] = dp
                        weighted += weight * dp
                    }
                    // Softmax Jacobian, then the scaled dot product.
                    for s in 0...t {
                        let dScore = probabilities.storage[pRow + s] * (dScores[s] - weighted) * inverseSqrtHeadWidth
                        let kRow = (b * length + s) * width + headOffset
                        for d in 0..<headWidth {
                            dq.storage[qRow + d] += dScore * k.storage[kRow + d]
                            dk.storage[kRow + d] += dScore * q.storage[qRow + d]
                        }
                    }
                }
            }
        }
    }

    /// The q/k LayerNorms and the three input projections, after the heads;
    /// without `outputGradients` (the input gradient alone) no parameter
    /// gradient is computed.
    static func finishBackward(dq dqHeads: Tensor, dk dkHeads: Tensor, dv: Tensor, cache: Cache, parameters p: Parameters,
                               outputGradients: DenseWithLoRA.Parameters?) -> (input: Tensor, parameters: Parameters?) {
        let parameterGradients = outputGradients != nil
        var dq = dqHeads
        var dk = dkHeads

        var queryNormScaleGradient: Tensor?
        var keyNormScaleGradient: Tensor?
        if let queryScale = p.queryNormScale, let keyScale = p.keyNormScale,
           let queryNorm = cache.queryNorm, let keyNorm = cache.keyNorm,
           let queryBeforeNorm = cache.queryBeforeNorm, let keyBeforeNorm = cache.keyBeforeNorm {
            let queryNormGradients = LayerNorm.backward(dq, x: queryBeforeNorm, scale: queryScale,
                                                        cache: queryNorm, hasBias: false)
            let keyNormGradients = LayerNorm.backward(dk, x: keyBeforeNorm, scale: keyScale,
                                                      cache: keyNorm, hasBias: false)
            dq = queryNormGradients.input
            dk = keyNormGradients.input
            queryNormScaleGradient = queryNormGradients.scale
            keyNormScaleGradient = keyNormGradients.scale
        }

        let query = DenseWithLoRA.backward(dq, cache: cache.query, parameters: p.query, parameterGradients: parameterGradients)
        let key = DenseWithLoRA.backward(dk, cache: cache.key, parameters: p.key, parameterGradients: parameterGradients)
        let value = DenseWithLoRA.backward(dv, cache: cache.value, parameters: p.value, parameterGradients: parameterGradients)
        let input = query.input + key.input + value.input
        guard let outputGradients, let queryGradients = query.parameters, let keyGradients = key.parameters,
              let valueGradients = value.parameters else { return (input, nil) }
        let gradients = Parameters(query: queryGradients, key: keyGradients, value: valueGradients,
                                   output: outputGradients, queryNormScale: queryNormScaleGradient,
                                   keyNormScale: keyNormScaleGradient)
        return (input, gradients)
    }
}
