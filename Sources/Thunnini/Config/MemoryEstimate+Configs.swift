/// Memory estimates from configs, before anything is allocated from them.
///
/// The counts follow the layers' caches loosely but from above: each torso
/// layer keeps a few activations of its width per token for the backward
/// pass, attention keeps its H x L x L probabilities, the optimizer keeps
/// gradients and two Adam moments per parameter. What matters is the order
/// of magnitude: a `batch_size` of 2^62 or an `embedding_dimensionality` of
/// 10^9 is refused in one line instead of aborting in an allocation.
extension MemoryEstimate {
    /// Bytes of one Double.
    static let word = 8.0

    /// Parameters of the predictor (embedding, torso, unembedding).
    public static func parameterCount(_ predictor: PredictorConfig, _ torso: TorsoConfig) -> Double {
        parameterTerms(predictor, torso).reduce(0) { $0 + $1.count }
    }

    /// The predictor's parameters, term by term, each with the config keys that size it.
    static func parameterTerms(_ predictor: PredictorConfig, _ torso: TorsoConfig) -> [(key: String, count: Double)] {
        let v = Double(predictor.tokenDimensionality), e = Double(predictor.embeddingDimensionality)
        let vocabulary = "token_dimensionality \(predictor.tokenDimensionality)"
        var terms = [(key: vocabulary, count: v * e + e)]
        var width = e
        switch torso {
        case .linear(let c):
            for (i, h) in c.hiddenSizes.map(Double.init).enumerated() {
                terms.append(("hidden_sizes[\(i)] \(c.hiddenSizes[i])", width * h + h)); width = h
            }
        case .lstm(let c):
            for (i, h) in c.hiddenSizes.map(Double.init).enumerated() {
                terms.append(("hidden_sizes[\(i)] \(c.hiddenSizes[i])", 4 * h * (width + h) + 4 * h)); width = h
            }
        case .transformer(let c):
            let rank = c.useLoRA ? Double(c.reducedRank) : 0
            for (i, h) in c.hiddenSizes.map(Double.init).enumerated() {
                let mlp = h * Double(c.wideningFactor)
                terms.append(("embedding_dimensionality \(predictor.embeddingDimensionality)",
                              4 * (e * e + e) + 4 * (2 * e * rank + e) + 2 * e + e + 6 * e))
                terms.append(("hidden_sizes[\(i)] \(c.hiddenSizes[i]) x widening_factor \(c.wideningFactor)", 2 * e * mlp + mlp))
            }
        }
        terms.append((vocabulary, width * v + v))
        return terms
    }

    /// Doubles kept per token of the whole input (BOS, prefix, sequence) by
    /// a forward pass for its backward pass, `length` being that whole input.
    static func activationsPerToken(_ predictor: PredictorConfig, _ torso: TorsoConfig, length: Double) -> Double {
        activationTerms(predictor, torso, length: length).reduce(0) { $0 + $1.count }
    }

    /// The same, term by term, each with the config keys that size it.
    static func activationTerms(_ predictor: PredictorConfig, _ torso: TorsoConfig, length: Double) -> [(key: String, count: Double)] {
        let v = Double(predictor.tokenDimensionality), e = Double(predictor.embeddingDimensionality)
        let embedding = "embedding_dimensionality \(predictor.embeddingDimensionality)"
        var terms = [(key: "token_dimensionality \(predictor.tokenDimensionality)", count: 6 * v), (key: embedding, count: 2 * e)]
        switch torso {
        case .linear(let c):
            for (i, h) in c.hiddenSizes.enumerated() { terms.append(("hidden_sizes[\(i)] \(h)", 2 * Double(h))) }
        case .lstm(let c):
            // Gates (4h), cell and hidden state, tanh of the cell.
            for (i, h) in c.hiddenSizes.enumerated() { terms.append(("hidden_sizes[\(i)] \(h)", 8 * Double(h))) }
        case .transformer(let c):
            // q, k, v, merged heads, residuals and LayerNorm caches (~10 E), the
            // MLP's hidden layer before and after GELU (2 H w), and the H x L
            // attention probabilities of each query.
            for (i, h) in c.hiddenSizes.enumerated() {
                terms.append((embedding, 10 * e))
                terms.append(("hidden_sizes[\(i)] \(h) x widening_factor \(c.wideningFactor)", 2 * Double(h) * Double(c.wideningFactor)))
                terms.append(("num_attention_heads \(c.numAttentionHeads) x the input length", Double(c.numAttentionHeads) * length))
            }
        }
        return terms
    }

    /// The key of the largest term, for messages.
    static func dominantKey(_ terms: [(key: String, count: Double)]) -> String {
        terms.max { $0.count < $1.count }?.key ?? ""
    }

    /// Doubles held per token of the whole input by a forward pass with no
    /// backward pass (`forwardWithoutCache`, as `Evaluation.evaluate` runs
    /// it): the same activations as `activationsPerToken` but not the
    /// attention probabilities, which the fast kernel keeps one head at a
    /// time per thread (`forwardScratchBytes`).
    public static func forwardActivationsPerToken(_ predictor: PredictorConfig, _ torso: TorsoConfig) -> Double {
        activationsPerToken(predictor, torso, length: 0)
    }

    /// Bytes of per-thread buffers of a forward pass without a backward pass
    /// over inputs of `length` positions: one L x L head of attention
    /// probabilities per thread for a transformer.
    static func forwardScratchBytes(_ torso: TorsoConfig, length: Double) -> Double {
        guard case .transformer = torso else { return 0 }
        return word * Double(Parallel.threadCount) * length * length
    }

    /// Keeps the parameters, their gradients, Adam's two moments and a copy
    /// of the starting parameters.
    public mutating func keepPredictor(_ predictor: PredictorConfig, _ torso: TorsoConfig,
                                       keys: String = "predictor_config, torso_config") {
        keep("the parameters and optimizer state (\(keys)), dominated by \(Self.dominantKey(Self.parameterTerms(predictor, torso)))",
             bytes: 5 * Self.word * Self.parameterCount(predictor, torso))
    }

    /// A forward and backward pass over `batch` sequences of `length` tokens
    /// with a prefix of `prefix` rows, or without `backward` an evaluation of
    /// `batch` sequences (the most one call of `Evaluation.evaluate` is asked
    /// to run at once), in the forward passes of `Evaluation.chunkSize`
    /// sequences that it runs; `keys` names the input keys that size it in
    /// the error message, `prefixKey` the one of the prefix. The message also
    /// names the key that dominates: of the three factors (sequences, tokens
    /// per sequence, values per token) the largest, and within it its largest
    /// term, so that a widening factor or a prefix length of 10^9 is blamed,
    /// not a batch of 8 x 10 x 2.
    public mutating func phasePass(_ predictor: PredictorConfig, _ torso: TorsoConfig, batch: Int, length: Int,
                                   prefix: Int = 0, prefixKey: String = "prefix_length", backward: Bool, keys: String) {
        let total = Double(length) + Double(prefix) + 1
        let pass = backward ? batch : Evaluation.chunkSize(batchSize: batch, total: batch, predictor: predictor, torso: torso,
                                                            inputLength: Int(min(total, Double(Int.max / 2))))
        // Without a backward pass no attention probabilities are kept (`forwardActivationsPerToken`).
        let terms = Self.activationTerms(predictor, torso, length: backward ? total : 0)
        let perToken = terms.reduce(0) { $0 + $1.count }
        let activations = Double(pass) * total * perToken
        let sequences = 2 * Double(pass) * Double(length) * Double(predictor.tokenDimensionality)
        let widths = "embedding_dimensionality \(predictor.embeddingDimensionality), hidden_sizes \(torso.hiddenSizes)"
        let dominant: String
        if Double(batch) >= max(total, perToken) {
            dominant = "the batch of \(batch) sequences"
        } else if total >= perToken {
            dominant = prefix > length ? "\(prefixKey) \(prefix)" : "the sequence length \(length)"
        } else {
            dominant = Self.dominantKey(terms)
        }
        phase("the \(backward ? "training" : "evaluation") batch (\(keys); \(widths)), dominated by \(dominant)",
              bytes: Self.word * ((backward ? 2 : 1) * activations + sequences) + (backward ? 0 : Self.forwardScratchBytes(torso, length: total)))
    }

    /// Keeps `copies` arrays of `batch` x `length` x `vocab` Doubles (drawn
    /// sequences, ground truth, Bayes predictions).
    public mutating func keepSequences(batch: Int, length: Int, vocab: Int, copies: Int, keys: String) {
        keep("the sequences of \(keys)", bytes: Self.word * Double(copies) * Double(batch) * Double(length) * Double(vocab))
    }
}

extension DataGeneratorConfig {
    /// `path batch_size B x sequence_length T x vocab_size V` for messages.
    public func sizeKeys(_ path: String) -> String {
        let prefix = path.isEmpty || path.hasSuffix(": ") ? path : "\(path)."
        let inner = prefix.hasSuffix(": ") ? "" : prefix
        return "\(prefix)batch_size \(batchSize) x \(inner)sequence_length \(sequenceLength) x \(inner)vocab_size \(vocabSize)"
    }
}

extension ExperimentSpec {
    /// What `ExperimentRunner.run()` will allocate at its peak (see `MemoryEstimate`).
    public func memoryEstimate() -> MemoryEstimate {
        var estimate = MemoryEstimate()
        let p = predictorConfig, t = torsoConfig
        estimate.keepPredictor(p, t)
        if let pretraining {
            let data = pretraining.dataConfig
            estimate.phasePass(p, t, batch: data.batchSize, length: data.sequenceLength, backward: true,
                               keys: data.sizeKeys("pretraining.data_config"))
        }
        var longestPrefix = 0
        for named in tuningConfigs {
            let prefix = named.config.tuningMethod.isPrefixMethod ? max(0, named.config.prefixLength ?? 0) : 0
            longestPrefix = max(longestPrefix, prefix)
            estimate.phasePass(p, t, batch: tuningDataConfig.batchSize, length: tuningDataConfig.sequenceLength,
                               prefix: prefix, prefixKey: "tuning_configs[\(named.name)].config.prefix_length", backward: true,
                               keys: tuningDataConfig.sizeKeys("tuning_data_config") + " with tuning_configs[\(named.name)].config.prefix_length \(prefix)")
            // Every repetition keeps its tuned prefix or parameters.
            let kept = named.config.tuningMethod.isPrefixMethod
                ? Double(2 * prefix) * Double(max(p.embeddingDimensionality, p.tokenDimensionality))
                : MemoryEstimate.parameterCount(p, t)
            estimate.keep("the results of tuning_configs[\(named.name)] (num_tuning_repetitions \(named.config.numTuningRepetitions))",
                          bytes: MemoryEstimate.word * Double(named.config.numTuningRepetitions) * kept)
        }
        if let hardPrefix {
            let data = tuningDataConfig
            estimate.keepSequences(batch: hardPrefix.numSequences, length: data.sequenceLength, vocab: data.vocabSize, copies: 2,
                                   keys: "hard_prefix.num_sequences \(hardPrefix.numSequences) x tuning_data_config.sequence_length \(data.sequenceLength)")
            longestPrefix = max(longestPrefix, hardPrefix.prefixLength)
            let batch = evalBatchSize >= 1 ? min(evalBatchSize, hardPrefix.numSequences) : hardPrefix.numSequences
            estimate.phasePass(p, t, batch: batch, length: data.sequenceLength, prefix: hardPrefix.prefixLength,
                               prefixKey: "hard_prefix.prefix_length", backward: false,
                               keys: "hard_prefix.num_sequences \(hardPrefix.numSequences) (eval_batch_size \(evalBatchSize)) x hard_prefix.prefix_length \(hardPrefix.prefixLength)")
        }
        for named in evalDataConfigs {
            let data = named.config
            estimate.keepSequences(batch: data.batchSize, length: data.sequenceLength, vocab: data.vocabSize, copies: 3,
                                   keys: data.sizeKeys("eval_data_configs[\(named.name)].config"))
            let batch = evalBatchSize >= 1 ? min(evalBatchSize, data.batchSize) : data.batchSize
            estimate.phasePass(p, t, batch: batch, length: data.sequenceLength, prefix: longestPrefix,
                               prefixKey: "the longest prefix_length", backward: false,
                               keys: "eval_data_configs[\(named.name)].config (eval_batch_size \(evalBatchSize))")
        }
        return estimate
    }
}
