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

        // The forward cases, and each method's prefix and number of steps.
        var cases: [(name: String, prefix: Prefix)] = []
        for caseName in bundle.cases.keys.sorted() {
            cases.append((caseName, try casePrefix(bundle, caseName: caseName, log: &log)))
        }
        var methods: [PredictorBundleComputation.Method] = []
        for methodName in bundle.tuning.keys.sorted() {
            guard let method = TuningMethod(rawValue: methodName) else {
                throw ThunniniError("bundle '\(bundle.name)': unknown tuning method '\(methodName)'")
            }
            let tuning = bundle.tuning[methodName]!
            let prefix = try casePrefix(bundle, caseName: tuning.prefixType, log: &log)
            guard prefix.type == (method.prefixType ?? .none) else {
                throw ThunniniError("bundle '\(bundle.name)': method '\(methodName)' uses prefix type '\(tuning.prefixType)', expected '\((method.prefixType ?? .none).rawValue)'")
            }
            // Optimizer steps are compared only where the bundle has them.
            let hasSteps = bundle.arrays["tuning/\(methodName)/step_losses"] != nil
            methods.append(.init(method: method, prefix: prefix, steps: hasSteps ? tuning.steps : 0))
        }
        var batches: Tensor? = nil
        var hyperparameters: ClippedAdam.Hyperparameters? = nil
        if methods.contains(where: { $0.steps > 0 }) {
            guard let optimizer = bundle.optimizer else {
                throw ThunniniError("bundle '\(bundle.name)': optimizer steps given but no optimizer settings")
            }
            guard optimizer.chain == ["clip_by_global_norm", "adam"] else {
                throw ThunniniError("bundle '\(bundle.name)': unsupported optimizer chain \(optimizer.chain)")
            }
            batches = try bundle.array("tuning/batches")
            log.markUsed("tuning/batches")
            hyperparameters = ClippedAdam.Hyperparameters(
                learningRate: optimizer.learningRate, maxGradNorm: optimizer.maxGradNorm,
                b1: optimizer.adam.b1, b2: optimizer.adam.b2, eps: optimizer.adam.eps, epsRoot: optimizer.adam.epsRoot)
        }
        let computed: PredictorBundleComputation
        do {
            computed = try PredictorBundleComputation(predictor: predictor, parameters: parameters, sequences: sequences,
                                                      cases: cases, methods: methods, batches: batches,
                                                      hyperparameters: hyperparameters)
        } catch let error as ThunniniError {
            throw ThunniniError("bundle '\(bundle.name)': \(error.message)")
        }

        // Parameters a method does not move are compared with no allowance:
        // they must not change at all (Docs/crosscheck.md, "After-step arrays").
        var allowances: [TuningMethod: StepAllowance] = [:]
        for (method, records) in computed.stepRecords {
            var allowance = StepAllowance(hyperparameters: hyperparameters!, gradientTolerance: bundle.tolerance.grad)
            for record in records { allowance.record(gradients: record.gradients, clipScale: record.clipScale) }
            allowances[method] = allowance
        }
        for array in computed.arrays {
            switch array.role {
            case .forward:
                log.compare(array.name, array.value, bundle.tolerance.forward)
            case .gradient:
                log.compare(array.name, array.value, bundle.tolerance.grad)
            case .afterStep(let method, let path, let afterSteps):
                let moves = method.isPrefixMethod || method.moves(path)
                log.compare(array.name, array.value, bundle.tolerance.afterStep,
                            allowance: moves ? allowances[method]!.allowance(path: path, afterSteps: afterSteps) : nil)
            }
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
}
