import Foundation

/// Cross-check bundles written by this implementation, in the format of the
/// original's (`thunnini-crosscheck/1`), for other implementations to check
/// themselves against (Docs/crosscheck.md, "Checking your implementation
/// against thunnini-ref"). Every array is float64.
public enum CrosscheckExport {
    /// The tolerances an exported bundle records: what an independent
    /// float64 implementation should meet. The original run in float64 agrees
    /// with thunnini-ref within them on every array of its bundles
    /// (Golden/crosscheck/thunnini-jax-f64); thunnini-ref itself reproduces
    /// every array exactly (`crosscheck --exact`).
    public static let float64Tolerances = CrosscheckBundle.Tolerances(
        forward: Tolerance(atol: 1e-9, rtol: 1e-7), grad: Tolerance(atol: 1e-9, rtol: 1e-7),
        afterStep: Tolerance(atol: 1e-9, rtol: 1e-7),
        note: "reference values are float64 from thunnini-ref; these tolerances are for float64 implementations "
            + "(float32: see Docs/crosscheck.md); compare |a-b| <= atol + rtol*|b|")

    /// The inputs of a predictor bundle.
    public struct PredictorInputs: Sendable {
        /// Every parameter under its full Flax path.
        public var parameters: ParameterTree
        /// B x T x V, the sequences of the forward cases and gradients.
        public var sequences: Tensor
        /// `case/<type>/prefix` for `prepend` and `simplex` (K x V, simplex
        /// before its softmax) and `embedding` (K x E).
        public var prefixes: [PrefixType: Tensor]
        /// S x B x T x V, one batch per optimizer step.
        public var batches: Tensor

        public init(parameters: ParameterTree, sequences: Tensor, prefixes: [PrefixType: Tensor], batches: Tensor) {
            self.parameters = parameters
            self.sequences = sequences
            self.prefixes = prefixes
            self.batches = batches
        }

        /// Checks shapes and values against `predictor` before any computation.
        public func check(for predictor: Predictor, steps: Int) throws {
            try predictor.checkParameters(parameters)
            for (path, value) in parameters.values.sorted(by: { $0.key < $1.key }) where !value.storage.allSatisfy(\.isFinite) {
                throw ThunniniError("parameter '\(path)' has non-finite values")
            }
            let v = predictor.config.tokenDimensionality
            guard sequences.rank == 3, sequences.shape[0] > 0, sequences.shape[1] > 0, sequences.shape[2] == v else {
                throw ThunniniError("sequences must be B x T x \(v) with B, T >= 1, got shape \(sequences.shape)")
            }
            try Self.checkOneHot(sequences, name: "sequences")
            for type in [PrefixType.prepend, .simplex, .embedding] {
                guard let prefix = prefixes[type] else { throw ThunniniError("no '\(type.rawValue)' prefix") }
                let width = type == .embedding ? predictor.config.embeddingDimensionality : v
                guard prefix.rank == 2, prefix.shape[0] > 0, prefix.shape[1] == width else {
                    throw ThunniniError("the '\(type.rawValue)' prefix must be K x \(width) with K >= 1, got shape \(prefix.shape)")
                }
                guard prefix.storage.allSatisfy(\.isFinite) else { throw ThunniniError("the '\(type.rawValue)' prefix has non-finite values") }
            }
            guard batches.rank == 4, batches.shape[0] >= steps, batches.shape[1] > 0, batches.shape[2] > 0, batches.shape[3] == v else {
                throw ThunniniError("batches must be S x B x T x \(v) with S >= \(steps) (the steps) and B, T >= 1, got shape \(batches.shape)")
            }
            try Self.checkOneHot(batches, name: "batches")
        }

        /// Bundles hold one-hot tokens (what the loss and the cross-check assume).
        static func checkOneHot(_ tokens: Tensor, name: String) throws {
            let v = tokens.shape.last!
            for row in 0..<(tokens.count / v) {
                let entries = tokens.storage[(row * v)..<((row + 1) * v)]
                guard entries.allSatisfy({ $0 == 0 || $0 == 1 }), entries.reduce(0, +) == 1 else {
                    let index = ArrayComparison.multiIndex(row * v, shape: tokens.shape).dropLast()
                    throw ThunniniError("\(name) must be one-hot, but row \(Array(index)) is \(Array(entries))")
                }
            }
        }
    }

    /// Seeded inputs: the predictor's initialisation from `seed` plus
    /// N(0, 0.1^2) noise on every entry (as the original's bundles, so that
    /// zero-initialised biases and LoRA factors carry signal), uniformly
    /// random one-hot sequences and batches, and prefixes with uniform [0, 1)
    /// (`prepend`), standard normal (`simplex`, before its softmax) and
    /// N(0, 0.5^2) (`embedding`) entries.
    ///
    /// Keys: `RandomKey(seed).split(into: 4)` = noise (split once per
    /// parameter path in sorted order), sequences, prefixes (split into
    /// prepend, simplex, embedding), batches. A token is
    /// `min(floor(u V), V - 1)` of one uniform draw u.
    public static func randomPredictorInputs(predictor: Predictor, batchSize: Int, sequenceLength: Int,
                                             prefixLength: Int, steps: Int, seed: Int) -> PredictorInputs {
        let keys = RandomKey(seed: UInt64(bitPattern: Int64(seed))).split(into: 4)
        var parameters = predictor.initialParameters(seed: seed)
        for (path, key) in zip(parameters.paths, keys[0].split(into: parameters.paths.count)) {
            var value = parameters[path]
            let noise = Tensor.normal(shape: value.shape, key: key)
            for i in 0..<value.count { value.storage[i] += 0.1 * noise.storage[i] }
            parameters[path] = value
        }
        let v = predictor.config.tokenDimensionality, e = predictor.config.embeddingDimensionality
        let prefixKeys = keys[2].split(into: 3)
        var embedding = Tensor.normal(shape: [prefixLength, e], key: prefixKeys[2])
        for i in 0..<embedding.count { embedding.storage[i] *= 0.5 }
        return PredictorInputs(
            parameters: parameters,
            sequences: randomOneHot(shape: [batchSize, sequenceLength], vocabSize: v, key: keys[1]),
            prefixes: [.prepend: Tensor.uniform(shape: [prefixLength, v], key: prefixKeys[0]),
                       .simplex: Tensor.normal(shape: [prefixLength, v], key: prefixKeys[1]),
                       .embedding: embedding],
            batches: randomOneHot(shape: [steps, batchSize, sequenceLength], vocabSize: v, key: keys[3]))
    }

    /// One-hot tokens of `shape` + [V], each `min(floor(u V), V - 1)` of a uniform u.
    static func randomOneHot(shape: [Int], vocabSize: Int, key: RandomKey) -> Tensor {
        let uniform = Tensor.uniform(shape: shape, key: key)
        var oneHot = Tensor(shape: shape + [vocabSize])
        for i in 0..<uniform.count {
            oneHot.storage[i * vocabSize + min(Int(uniform.storage[i] * Double(vocabSize)), vocabSize - 1)] = 1
        }
        return oneHot
    }

    /// The tuning methods a torso admits (the original's refusals:
    /// `lora_finetune` needs a Transformer with LoRA, `full_parameters` a
    /// trainable torso), in `TuningMethod.allCases` order.
    public static func applicableMethods(for torsoConfig: TorsoConfig) -> [TuningMethod] {
        TuningMethod.allCases.filter { (try? $0.checkApplicable(to: torsoConfig)) != nil }
    }

    /// `all` (every applicable method) or a comma-separated list of method
    /// names; an unknown name or a method the torso cannot use is an error.
    public static func parseMethods(_ text: String, for torsoConfig: TorsoConfig) throws -> [TuningMethod] {
        if text == "all" { return applicableMethods(for: torsoConfig) }
        var methods: [TuningMethod] = []
        for name in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let method = TuningMethod(rawValue: name) else {
                throw ThunniniError("unknown tuning method '\(name)'; expected 'all' or a comma-separated list of \(TuningMethod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            try method.checkApplicable(to: torsoConfig)
            guard !methods.contains(method) else { throw ThunniniError("tuning method '\(name)' is listed twice") }
            methods.append(method)
        }
        return methods
    }

    /// A predictor bundle: the four forward cases (`none`, `prepend`,
    /// `simplex`, `embedding`) on `inputs.sequences`, and for each of
    /// `methods` the loss and gradient there and `steps` steps of clip + Adam
    /// with `hyperparameters` on `inputs.batches` (`PredictorBundleComputation`).
    public static func predictorBundle(name: String, source: String, predictor: Predictor, inputs: PredictorInputs,
                                       methods: [TuningMethod], steps: Int,
                                       hyperparameters: ClippedAdam.Hyperparameters,
                                       tolerance: CrosscheckBundle.Tolerances = float64Tolerances) throws -> CrosscheckBundle {
        guard steps >= 1 else { throw ThunniniError("steps must be >= 1, got \(steps)") }
        for method in methods { try method.checkApplicable(to: predictor.torsoConfig) }
        try inputs.check(for: predictor, steps: steps)
        func prefix(_ type: PrefixType) -> Prefix { type == .none ? .none : Prefix(type: type, values: inputs.prefixes[type]) }
        let caseTypes: [PrefixType] = [.none, .prepend, .simplex, .embedding]
        let computed = try PredictorBundleComputation(
            predictor: predictor, parameters: inputs.parameters, sequences: inputs.sequences,
            cases: caseTypes.map { ($0.rawValue, prefix($0)) },
            methods: methods.map { .init(method: $0, prefix: prefix($0.prefixType ?? .none), steps: steps) },
            batches: inputs.batches, hyperparameters: hyperparameters)

        var arrays: [String: Tensor] = ["sequences": inputs.sequences, "tuning/batches": inputs.batches]
        for (path, value) in inputs.parameters.values { arrays[path] = value }
        for type in caseTypes where type != .none { arrays["case/\(type.rawValue)/prefix"] = inputs.prefixes[type] }
        for array in computed.arrays { arrays[array.name] = array.value }
        let adam = CrosscheckBundle.Adam(b1: hyperparameters.b1, b2: hyperparameters.b2, eps: hyperparameters.eps,
                                         epsRoot: hyperparameters.epsRoot)
        return CrosscheckBundle(
            kind: .predictor, name: name, source: source, tolerance: tolerance,
            predictorConfig: predictor.config, torsoConfig: predictor.torsoConfig,
            optimizer: .init(learningRate: hyperparameters.learningRate, maxGradNorm: hyperparameters.maxGradNorm, adam: adam),
            cases: Dictionary(uniqueKeysWithValues: caseTypes.map { ($0.rawValue, .init(prefixType: $0.rawValue)) }),
            tuning: Dictionary(uniqueKeysWithValues: methods.map {
                ($0.rawValue, .init(prefixType: ($0.prefixType ?? .none).rawValue, steps: steps))
            }),
            arrays: arrays)
    }

    /// A data-generator bundle: `batch_size` sequences of `sequence_length`
    /// drawn with `RandomKey(seed)`, their ground truth and the source's
    /// Bayes predictor (log-probabilities and instant losses), and
    /// `expected_instant_regret` (T): the exact expected instant regret of
    /// the source's own Bayes predictor at each step, by enumeration
    /// (`ExactRegret`; refused before sampling when it would be too large).
    public static func datagenBundle(name: String, source: String, config: DataGeneratorConfig, seed: Int,
                                     tolerance: CrosscheckBundle.Tolerances = float64Tolerances) throws -> CrosscheckBundle {
        let generator = try makeDataGenerator(config)
        guard config.batchSize >= 1, config.sequenceLength >= 1 else {
            throw ThunniniError("batch_size and sequence_length must be >= 1 for a bundle, got \(config.batchSize) and \(config.sequenceLength)")
        }
        let regret = try ExactRegret.compute(source: generator, predictor: generator, length: config.sequenceLength)
        let (sequences, groundTruth) = generator.generate(key: RandomKey(seed: UInt64(bitPattern: Int64(seed))))
        let bayes = generator.solve(sequences: sequences)
        let arrays: [String: Tensor] = [
            "sequences": sequences,
            "ground_truth_log_probs": groundTruth,
            "ground_truth_instant_losses": instantLogLosses(logits: groundTruth, sequences: sequences),
            "bayes_log_probs": bayes.logProbs,
            "bayes_instant_losses": bayes.instantLosses,
            "expected_instant_regret": Tensor(shape: [config.sequenceLength], storage: regret.instantRegret),
        ]
        return CrosscheckBundle(kind: .datagen, name: name, source: source, tolerance: tolerance,
                                datagenConfig: config, arrays: arrays)
    }
}
