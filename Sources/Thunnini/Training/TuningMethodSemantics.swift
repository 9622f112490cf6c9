/// What each tuning method tunes (the original's `apply_updates` and
/// `make_grad_fn`); see Docs/optimizer.md.
extension TuningMethod {
    /// The prefix type of a prefix method, nil for weight methods.
    public var prefixType: PrefixType? { Prefix.type(for: self) }

    /// Whether the method tunes a prefix (and never the weights).
    public var isPrefixMethod: Bool { prefixType != nil }

    /// Whether a weight method moves the parameter at `path`. A path
    /// component "starts with" the key as in the original (so `LoRA_in_query`
    /// starts with `LoRA`, and `unembedding` does not start with `embedding`).
    public func moves(_ path: String) -> Bool {
        let components = ParameterTree.components(of: path)
        func anyStarts(with key: String) -> Bool { components.contains { $0.hasPrefix(key) } }
        switch self {
        case .prefixReal, .prefixSimplex, .prefixSoft: return false
        case .fullParameters: return !anyStarts(with: "LoRA")
        case .loraFinetune: return anyStarts(with: "LoRA")
        case .embedding: return anyStarts(with: "embedding")
        case .unembedding: return anyStarts(with: "unembedding")
        case .embeddingUnembedding: return anyStarts(with: "embedding") || anyStarts(with: "unembedding")
        }
    }

    /// The errors the original raises for a method its predictor cannot use.
    public func checkApplicable(to torsoConfig: TorsoConfig) throws {
        switch self {
        case .fullParameters where !torsoConfig.isTrainable:
            throw ThunniniError("tuning method 'full_parameters' requires a trainable torso (is_trainable is false)")
        case .loraFinetune:
            guard case .transformer(let transformer) = torsoConfig else {
                throw ThunniniError("tuning method 'lora_finetune' is only supported for Transformer torsos, not \(torsoConfig.torsoType)")
            }
            if !transformer.useLoRA {
                throw ThunniniError("tuning method 'lora_finetune' needs use_lora = true in the torso config")
            }
        default: break
        }
    }
}

/// One update step of training or tuning (the original's `update_parameters`):
/// loss and gradient at the current parameters/prefix, clip + Adam, and the
/// method's partial update.
public struct UpdateStep: Sendable {
    public let predictor: Predictor
    public let method: TuningMethod
    /// The optimizer and its state: over the prefix (key `prefix`) for prefix
    /// methods, over the whole parameter tree for weight methods.
    public private(set) var optimizer: ClippedAdam

    /// What one step reports.
    public struct Report: Sendable {
        /// The loss before the update.
        public var loss: Double
        /// The global norm of the gradient before clipping.
        public var gradientNorm: Double
        /// The unclipped gradient of what the optimizer sees: `prefix` for
        /// prefix methods, the whole parameter tree for weight methods.
        public var gradients: ParameterTree
        /// The factor clipping applied to `gradients` (1 when not clipped).
        public var clipScale: Double
    }

    /// A fresh optimizer for `method`, initialised on `prefix` (prefix
    /// methods) or on `parameters` (weight methods).
    public init(predictor: Predictor, method: TuningMethod, hyperparameters: ClippedAdam.Hyperparameters,
                parameters: ParameterTree, prefix: Tensor?) throws {
        try method.checkApplicable(to: predictor.torsoConfig)
        self.predictor = predictor
        self.method = method
        if method.isPrefixMethod {
            guard let prefix else { throw ThunniniError("tuning method '\(method.rawValue)' needs an initial prefix") }
            optimizer = ClippedAdam(hyperparameters, over: ParameterTree(["prefix": prefix]))
        } else {
            optimizer = ClippedAdam(hyperparameters, over: parameters)
        }
    }

    /// Runs one step on `sequences`, updating `parameters` or `prefix` in place.
    public mutating func step(parameters: inout ParameterTree, prefix: inout Tensor?, sequences: Tensor) throws -> Report {
        let fullPrefix = Prefix(type: method.prefixType ?? .none, values: method.isPrefixMethod ? prefix : nil)
        let output = try predictor.forward(parameters: parameters, sequences: sequences, prefix: fullPrefix)
        // Prefix methods move (and clip by) the prefix alone: no parameter gradients.
        let gradients = predictor.gradients(parameters: parameters, sequences: sequences, prefix: fullPrefix, output: output,
                                            parameterGradients: !method.isPrefixMethod)
        let norm: Double
        let seen: ParameterTree
        if method.isPrefixMethod {
            var tree = ParameterTree(["prefix": prefix!])
            seen = ParameterTree(["prefix": gradients.prefix!])
            norm = optimizer.step(params: &tree, grads: seen)
            prefix = tree["prefix"]
        } else {
            let method = self.method
            seen = gradients.parameters
            norm = optimizer.step(params: &parameters, grads: seen, moves: { method.moves($0) })
        }
        let maxNorm = optimizer.hyperparameters.maxGradNorm
        return Report(loss: output.loss, gradientNorm: norm, gradients: seen, clipScale: norm < maxNorm ? 1 : maxNorm / norm)
    }

    /// Runs `steps` steps on fresh batches of `generator`: each step splits
    /// `dataKey` into the next data key and the batch key (the original's
    /// `data_rng, data_rng_now = split(data_rng)`). Returns the per-step
    /// losses and unclipped gradient norms.
    public mutating func run(steps: Int, generator: any DataGenerator, dataKey: RandomKey,
                             parameters: inout ParameterTree, prefix: inout Tensor?,
                             onStep: ((_ step: Int, _ loss: Double) -> Void)?) throws -> (losses: [Double], gradientNorms: [Double]) {
        var key = dataKey
        var losses: [Double] = [], norms: [Double] = []
        for step in 0..<steps {
            let (next, batchKey) = key.split()
            key = next
            let report = try self.step(parameters: &parameters, prefix: &prefix, sequences: generator.generate(key: batchKey).sequences)
            try Self.checkFinite(report, step: step + 1, learningRate: optimizer.hyperparameters.learningRate)
            // A non-finite prefix would be refused by the next forward pass as bad input; name the update instead.
            if let prefix, let bad = prefix.storage.first(where: { !$0.isFinite }) {
                throw ThunniniError("step \(step + 1): the update made the prefix non-finite (\(bad)); learning_rate \(optimizer.hyperparameters.learningRate) is likely too large; nothing was written")
            }
            losses.append(report.loss)
            norms.append(report.gradientNorm)
            onStep?(step + 1, report.loss)
        }
        return (losses, norms)
    }

    /// Stops a run whose loss or gradient norm is NaN or infinite: every later
    /// step would only propagate it into NaN parameters and curves. At step 1
    /// nothing has been updated yet, so the starting point is at fault;
    /// later, the updates diverged, most often from a too large learning rate.
    static func checkFinite(_ report: Report, step: Int, learningRate: Double) throws {
        guard !report.loss.isFinite || !report.gradientNorm.isFinite else { return }
        let what = "loss \(report.loss), global gradient norm \(report.gradientNorm)"
        let cause = step == 1
            ? "the starting parameters or prefix give a non-finite loss"
            : "the updates diverged; learning_rate \(learningRate) is likely too large"
        throw ThunniniError("step \(step): non-finite \(what) (\(cause)); nothing was written")
    }
}
