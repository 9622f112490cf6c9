/// What this implementation computes for a predictor bundle, under the
/// bundle's array names: the one computation behind both `Crosscheck`
/// (compare with a bundle's arrays) and `CrosscheckExport` (write them), so
/// that what is checked and what is exported cannot drift apart.
///
/// Inputs are the parameters, the sequences, one prefix per forward case, and
/// per tuning method the prefix it starts from and the number of optimizer
/// steps on `tuning/batches` (0: no steps). The arrays (Docs/crosscheck.md):
///
/// - `case/<case>/`: `logits`, `log_probs`, `instant_losses`, `loss`, and with
///   a prefix `prefix_logits`; `states/<name>` and `prefix_states/<name>` when
///   the torso returns hidden states;
/// - `tuning/<method>/`: `loss` and the gradient at the given parameters
///   (`grad/prefix` for prefix methods, `grad/<path>` for every parameter for
///   weight methods), `grad_global_norm`; with S > 0 steps also
///   `step_losses`, `step_grad_norms_unclipped` (S each) and the prefix or the
///   whole parameter tree `after_step1/...` and (S > 1) `after_step<S>/...`.
struct PredictorBundleComputation {
    /// Which of a bundle's tolerances an array is held to.
    enum Role {
        /// Forward values and losses (`tolerance.forward`).
        case forward
        /// Gradients and gradient norms (`tolerance.grad`).
        case gradient
        /// The prefix (`path == "prefix"`) or the parameter at `path` after
        /// `afterSteps` optimizer steps of `method` (`tolerance.after_step`).
        case afterStep(method: TuningMethod, path: String, afterSteps: Int)
    }

    /// One computed array.
    struct ComputedArray {
        var name: String
        var value: Tensor
        var role: Role
    }

    /// One tuning method to compute.
    struct Method {
        var method: TuningMethod
        /// The prefix tuning starts from (`.none` for weight methods).
        var prefix: Prefix
        /// Optimizer steps on the batches; 0 computes only loss and gradient.
        var steps: Int
    }

    /// The computed arrays in a fixed order (cases, then methods as given).
    private(set) var arrays: [ComputedArray] = []
    /// Per method with steps: each step's unclipped gradients (what the
    /// optimizer saw) and clip factor, for `StepAllowance`.
    private(set) var stepRecords: [TuningMethod: [(gradients: ParameterTree, clipScale: Double)]] = [:]

    /// Runs every forward case and every method.
    ///
    /// - Parameters:
    ///   - cases: case name and its prefix, e.g. `("prepend", Prefix(type: .prepend, values: P))`.
    ///   - batches: S x B x T x V, needed when any method has steps.
    ///   - hyperparameters: the clip + Adam settings, needed when any method has steps.
    init(predictor: Predictor, parameters: ParameterTree, sequences: Tensor,
         cases: [(name: String, prefix: Prefix)], methods: [Method],
         batches: Tensor?, hyperparameters: ClippedAdam.Hyperparameters?) throws {
        for (caseName, prefix) in cases {
            let output = try predictor.forward(parameters: parameters, sequences: sequences, prefix: prefix)
            let base = "case/\(caseName)/"
            append(base + "logits", output.logits, .forward)
            append(base + "log_probs", output.logProbabilities, .forward)
            append(base + "instant_losses", output.instantLosses, .forward)
            append(base + "loss", Tensor(scalar: output.loss), .forward)
            if let prefixLogits = output.prefixLogits { append(base + "prefix_logits", prefixLogits, .forward) }
            for (name, state) in (output.states ?? [:]).sorted(by: { $0.key < $1.key }) {
                append(base + "states/" + name, state, .forward)
            }
            for (name, state) in (output.prefixStates ?? [:]).sorted(by: { $0.key < $1.key }) {
                append(base + "prefix_states/" + name, state, .forward)
            }
        }
        for entry in methods {
            let method = entry.method
            let output = try predictor.forward(parameters: parameters, sequences: sequences, prefix: entry.prefix)
            let gradients = predictor.gradients(parameters: parameters, sequences: sequences, prefix: entry.prefix, output: output)
            let base = "tuning/\(method.rawValue)/"
            append(base + "loss", Tensor(scalar: output.loss), .forward)
            // The gradient of what the optimizer sees: the prefix, or the whole tree.
            let seen = method.isPrefixMethod ? ParameterTree(["prefix": gradients.prefix!]) : gradients.parameters
            for path in seen.paths { append(base + "grad/" + path, seen[path], .gradient) }
            append(base + "grad_global_norm", Tensor(scalar: seen.globalNorm()), .gradient)
            if entry.steps > 0 {
                guard let batches, let hyperparameters else {
                    preconditionFailure("optimizer steps need batches and hyperparameters")
                }
                try runSteps(predictor: predictor, method: method, parameters: parameters, prefix: entry.prefix.values,
                             steps: entry.steps, batches: batches, hyperparameters: hyperparameters)
            }
        }
    }

    private mutating func append(_ name: String, _ value: Tensor, _ role: Role) {
        arrays.append(ComputedArray(name: name, value: value, role: role))
    }

    /// `steps` steps of clip + Adam on the first `steps` batches; records the
    /// per-step losses and unclipped norms and the state after steps 1 and S.
    private mutating func runSteps(predictor: Predictor, method: TuningMethod, parameters initial: ParameterTree,
                                   prefix initialPrefix: Tensor?, steps: Int, batches: Tensor,
                                   hyperparameters: ClippedAdam.Hyperparameters) throws {
        guard batches.rank == 4, batches.shape[0] >= steps else {
            throw ThunniniError("tuning/batches has shape \(batches.shape), need \(steps) batches (S x B x T x V)")
        }
        let base = "tuning/\(method.rawValue)/"
        var parameters = initial
        var prefix = initialPrefix
        var step = try UpdateStep(predictor: predictor, method: method, hyperparameters: hyperparameters,
                                  parameters: parameters, prefix: prefix)
        let batchShape = Array(batches.shape.dropFirst())
        let batchSize = batchShape.reduce(1, *)
        var losses: [Double] = [], norms: [Double] = []
        var records: [(gradients: ParameterTree, clipScale: Double)] = []
        for s in 0..<steps {
            let batch = Tensor(shape: batchShape, storage: Array(batches.storage[(s * batchSize)..<((s + 1) * batchSize)]))
            let report = try step.step(parameters: &parameters, prefix: &prefix, sequences: batch)
            losses.append(report.loss)
            norms.append(report.gradientNorm)
            records.append((report.gradients, report.clipScale))
            // The state after the first and after the last step.
            var checkpoints: [Int] = []
            if s == 0 { checkpoints.append(1) }
            if s == steps - 1 && steps > 1 { checkpoints.append(steps) }
            for after in checkpoints {
                let afterBase = base + "after_step\(after)/"
                if method.isPrefixMethod {
                    append(afterBase + "prefix", prefix!, .afterStep(method: method, path: "prefix", afterSteps: after))
                } else {
                    for path in parameters.paths {
                        append(afterBase + path, parameters[path], .afterStep(method: method, path: path, afterSteps: after))
                    }
                }
            }
        }
        append(base + "step_losses", Tensor(shape: [steps], storage: losses), .forward)
        append(base + "step_grad_norms_unclipped", Tensor(shape: [steps], storage: norms), .gradient)
        stepRecords[method] = records
    }
}
