extension Crosscheck {
    /// A predictor bundle: forward cases, loss and gradient of every tuning
    /// method, and the optimizer steps on `tuning/batches`.
    static func runPredictorBundle(_ bundle: CrosscheckBundle) throws -> CrosscheckReport {
        guard let predictorConfig = bundle.predictorConfig, let torsoConfig = bundle.torsoConfig else {
            throw ThunniniError("bundle '\(bundle.name)': a predictor bundle needs predictor_config and torso_config")
        }
        let predictor = try Predictor(config: predictorConfig, torsoConfig: torsoConfig)
        var log = ComparisonLog(bundle: bundle)

        var parameters = ParameterTree()
        for (name, value) in bundle.arrays where name.hasPrefix("params/") {
            parameters[name] = value
            log.markUsed(name)
        }
        try predictor.checkParameters(parameters, context: "bundle '\(bundle.name)'")
        let sequences = try bundle.array("sequences")
        log.markUsed("sequences")

        // Forward cases.
        for caseName in bundle.cases.keys.sorted() {
            let prefix = try casePrefix(bundle, caseName: caseName, log: &log)
            let output = try predictor.forward(parameters: parameters, sequences: sequences, prefix: prefix)
            let base = "case/\(caseName)/"
            let tolerance = bundle.tolerance.forward
            log.compare(base + "logits", output.logits, tolerance)
            log.compare(base + "log_probs", output.logProbabilities, tolerance)
            log.compare(base + "instant_losses", output.instantLosses, tolerance)
            log.compare(base + "loss", output.loss, tolerance)
            if let prefixLogits = output.prefixLogits { log.compare(base + "prefix_logits", prefixLogits, tolerance) }
            for (name, state) in output.states ?? [:] { log.compare(base + "states/" + name, state, tolerance) }
            for (name, state) in output.prefixStates ?? [:] { log.compare(base + "prefix_states/" + name, state, tolerance) }
        }

        // Loss and gradient of each tuning method at the bundle's parameters.
        for methodName in bundle.tuning.keys.sorted() {
            guard let method = TuningMethod(rawValue: methodName) else {
                throw ThunniniError("bundle '\(bundle.name)': unknown tuning method '\(methodName)'")
            }
            let tuning = bundle.tuning[methodName]!
            let prefix = try casePrefix(bundle, caseName: tuning.prefixType, log: &log)
            guard prefix.type == (method.prefixType ?? .none) else {
                throw ThunniniError("bundle '\(bundle.name)': method '\(methodName)' uses prefix type '\(tuning.prefixType)', expected '\((method.prefixType ?? .none).rawValue)'")
            }
            let output = try predictor.forward(parameters: parameters, sequences: sequences, prefix: prefix)
            let gradients = predictor.gradients(parameters: parameters, sequences: sequences, prefix: prefix, output: output)
            let base = "tuning/\(methodName)/"
            log.compare(base + "loss", output.loss, bundle.tolerance.forward)
            if method.isPrefixMethod {
                log.compare(base + "grad/prefix", gradients.prefix!, bundle.tolerance.grad)
                log.compare(base + "grad_global_norm", ParameterTree(["prefix": gradients.prefix!]).globalNorm(), bundle.tolerance.grad)
            } else {
                for path in gradients.parameters.paths {
                    log.compare(base + "grad/" + path, gradients.parameters[path], bundle.tolerance.grad)
                }
                log.compare(base + "grad_global_norm", gradients.parameters.globalNorm(), bundle.tolerance.grad)
            }
            try compareSteps(bundle, predictor: predictor, method: method, parameters: parameters,
                             prefix: prefix.values, steps: tuning.steps, log: &log)
        }
        return log.report()
    }

    /// The prefix of `case/<caseName>/prefix` (none for the `none` case).
    static func casePrefix(_ bundle: CrosscheckBundle, caseName: String, log: inout ComparisonLog) throws -> Prefix {
        let type: PrefixType
        if let caseInfo = bundle.cases[caseName] {
            guard let parsed = PrefixType(rawValue: caseInfo.prefixType) else {
                throw ThunniniError("bundle '\(bundle.name)': case '\(caseName)' has unknown prefix type '\(caseInfo.prefixType)'")
            }
            type = parsed
        } else if let parsed = PrefixType(rawValue: caseName) {
            type = parsed
        } else {
            throw ThunniniError("bundle '\(bundle.name)': unknown prefix case '\(caseName)'")
        }
        if type == .none { return .none }
        let name = "case/\(caseName)/prefix"
        log.markUsed(name)
        return Prefix(type: type, values: try bundle.array(name))
    }

    /// Runs the bundle's optimizer for `steps` steps on `tuning/batches` and
    /// compares the per-step losses and norms and the state after steps 1 and S.
    static func compareSteps(_ bundle: CrosscheckBundle, predictor: Predictor, method: TuningMethod,
                             parameters initial: ParameterTree, prefix initialPrefix: Tensor?, steps: Int,
                             log: inout ComparisonLog) throws {
        let base = "tuning/\(method.rawValue)/"
        guard bundle.arrays[base + "step_losses"] != nil else { return }
        guard let optimizer = bundle.optimizer else {
            throw ThunniniError("bundle '\(bundle.name)': optimizer steps given but no optimizer settings")
        }
        guard optimizer.chain == ["clip_by_global_norm", "adam"] else {
            throw ThunniniError("bundle '\(bundle.name)': unsupported optimizer chain \(optimizer.chain)")
        }
        let batches = try bundle.array("tuning/batches")
        log.markUsed("tuning/batches")
        guard batches.rank == 4, batches.shape[0] >= steps else {
            throw ThunniniError("bundle '\(bundle.name)': tuning/batches has shape \(batches.shape), need \(steps) batches")
        }
        let hyperparameters = ClippedAdam.Hyperparameters(
            learningRate: optimizer.learningRate, maxGradNorm: optimizer.maxGradNorm,
            b1: optimizer.adam.b1, b2: optimizer.adam.b2, eps: optimizer.adam.eps, epsRoot: optimizer.adam.epsRoot)
        var parameters = initial
        var prefix = initialPrefix
        var step = try UpdateStep(predictor: predictor, method: method, hyperparameters: hyperparameters,
                                  parameters: parameters, prefix: prefix)
        var allowance = StepAllowance(hyperparameters: hyperparameters, gradientTolerance: bundle.tolerance.grad)
        let batchShape = Array(batches.shape.dropFirst())
        let batchSize = batchShape.reduce(1, *)
        var losses: [Double] = [], norms: [Double] = []
        for s in 0..<steps {
            let batch = Tensor(shape: batchShape, storage: Array(batches.storage[(s * batchSize)..<((s + 1) * batchSize)]))
            let report = try step.step(parameters: &parameters, prefix: &prefix, sequences: batch)
            losses.append(report.loss)
            norms.append(report.gradientNorm)
            allowance.record(gradients: report.gradients, clipScale: report.clipScale)
            // The bundle keeps the state after the first and after the last step.
            var checkpoints: [Int] = []
            if s == 0 { checkpoints.append(1) }
            if s == steps - 1 && steps > 1 { checkpoints.append(steps) }
            for after in checkpoints {
                let afterBase = base + "after_step\(after)/"
                // Parameters that do not move are compared with no allowance: they must not change at all.
                if method.isPrefixMethod {
                    log.compare(afterBase + "prefix", prefix!, bundle.tolerance.afterStep,
                                allowance: allowance.allowance(path: "prefix", afterSteps: after))
                } else {
                    for path in parameters.paths {
                        log.compare(afterBase + path, parameters[path], bundle.tolerance.afterStep,
                                    allowance: method.moves(path) ? allowance.allowance(path: path, afterSteps: after) : nil)
                    }
                }
            }
        }
        log.compare(base + "step_losses", Tensor(shape: [steps], storage: losses), bundle.tolerance.forward)
        log.compare(base + "step_grad_norms_unclipped", Tensor(shape: [steps], storage: norms), bundle.tolerance.grad)
    }
}
