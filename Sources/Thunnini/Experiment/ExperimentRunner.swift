/// Runs an `ExperimentSpec` end to end (the original's experiment notebook
/// around `tuning.run_tuning_experiment`): pretraining, every tuning config
/// and repetition, the hard-prefix search, the baselines, and evaluation of
/// everything on every evaluation source. Output: `ExperimentResults`, which
/// `ExperimentResults.write(to:)` puts on disk (Docs/experiment.md).
public struct ExperimentRunner {
    public let spec: ExperimentSpec
    /// Whether long phases print progress lines on stderr.
    public var reportsProgress: Bool

    public init(spec: ExperimentSpec, reportsProgress: Bool = true) throws {
        try spec.validate()
        try spec.memoryEstimate().check(source: "experiment '\(spec.name)'")
        self.spec = spec
        self.reportsProgress = reportsProgress
    }

    /// A progress callback for a phase of `total` steps (or nil when quiet).
    func progress(_ phase: String, total: Int) -> (reporter: ProgressReporter?, onStep: ((Int, Double) -> Void)?) {
        guard reportsProgress else { return (nil, nil) }
        let reporter = ProgressReporter(phase: phase, total: total)
        return (reporter, { step, loss in reporter.update(step: step, loss: loss) })
    }

    /// A finished pretraining, to share between experiments that pretrain
    /// the same predictor in the same way (`pretrainingKey` equal).
    public struct Pretrained: Sendable {
        public var parameters: ParameterTree
        public var curves: ExperimentResults.Curves
        public init(parameters: ParameterTree, curves: ExperimentResults.Curves) {
            self.parameters = parameters
            self.curves = curves
        }
    }

    /// Equal for two specs exactly when their pretraining gives the same
    /// network (same predictor, torso and pretraining configs); nil without pretraining.
    public var pretrainingKey: String? {
        guard let pretraining = spec.pretraining else { return nil }
        let parts = [try? JSONOutput.encode(spec.predictorConfig), try? JSONOutput.encode(spec.torsoConfig),
                     try? JSONOutput.encode(pretraining)]
        guard parts.allSatisfy({ $0 != nil }) else { return nil }
        return parts.map { String(decoding: $0!, as: UTF8.self) }.joined(separator: "\n")
    }

    /// The whole experiment. Deterministic: the same spec gives the same
    /// results. `pretrained`, when given, must come from an experiment with
    /// the same `pretrainingKey` (it is what this one's pretraining would
    /// compute, so the results are the same, without the cost).
    ///
    /// Runs the experiment's units (`ExperimentSpec.units()`) one after the
    /// other in plan order and adds their outputs up, exactly as a merge of
    /// separately run units does (Docs/cluster.md).
    public func run(pretrained: Pretrained? = nil) throws -> ExperimentResults {
        let units = try spec.units()
        let sources = try evaluationSources()
        var outputs: [ExperimentUnitOutput] = []
        return try assemble(units: units, sources: sources) { index in
            let unit = units[index]
            var output: ExperimentUnitOutput
            if unit.kind == .pretrain, let pretrained, spec.pretraining != nil {
                output = ExperimentUnitOutput()
                output.parameters = pretrained.parameters
                output.pretrainingCurves = pretrained.curves
            } else {
                output = try execute(unit, sources: sources) { outputs[$0] }
            }
            // Later units read parameters, prefixes and hard prefixes, never
            // evaluations, which `assemble` has added up once this returns.
            var kept = output
            kept.evaluations = []
            outputs.append(kept)
            return output
        }
    }

    /// The results of a run whose units give `output(i)` for unit `i`: the
    /// outputs are asked for and added up one at a time, in plan order, so
    /// that no more than one unit's evaluations is held at once.
    public func assemble(units: [ExperimentUnit], sources: [EvaluationSource],
                         output: (Int) throws -> ExperimentUnitOutput) throws -> ExperimentResults {
        var results = ExperimentResults(spec: spec)
        for source in sources {
            results.sequences[source.name] = ["sequences": source.sequences, "ground_truth_log_probs": source.groundTruthLogProbs]
        }
        for unit in units { results.add(try output(unit.index), of: unit, evaluationSources: sources) }
        return results
    }

    /// The evaluation sequences: one draw per source, all with the same key
    /// `RandomKey(eval_datagen_seed)`, and their ground truth.
    public func evaluationSources() throws -> [EvaluationSource] {
        let evalKey = RandomKey(seed: UInt64(spec.evalDatagenSeed))
        return try spec.evalDataConfigs.map { named in
            let generator = try makeDataGenerator(named.config)
            let (sequences, groundTruthLogProbs) = generator.generate(key: evalKey)
            return EvaluationSource(name: named.name, generator: generator, sequences: sequences,
                                    groundTruthLosses: instantLogLosses(logits: groundTruthLogProbs, sequences: sequences),
                                    groundTruthLogProbs: groundTruthLogProbs)
        }
    }

    /// The data seed and the initial prefix (prefix methods) of repetition
    /// `repetition` (1-based) of a tuning config: the data seed is
    /// `data_gen_seed + repetition` when `iterate_datagen_seed_over_repetitions`
    /// (else `data_gen_seed`); the prefix key is the second half of the
    /// `repetition`-th split of the chain from `RandomKey(prefix_init_seed)`
    /// (Docs/random.md).
    public func tuningStart(_ config: TuningConfig, repetition: Int) -> (dataSeed: Int, initialPrefix: Tensor?) {
        var initialPrefix: Tensor? = nil
        if let prefixType = config.tuningMethod.prefixType {
            var prefixKey = RandomKey(seed: UInt64(config.prefixInitSeed))
            var now = prefixKey
            for _ in 1...repetition { (prefixKey, now) = prefixKey.split() }
            initialPrefix = Tuning.initialPrefix(length: config.prefixLength!, width: spec.predictorConfig.prefixWidth(prefixType),
                                                 method: config.prefixInitMethod!, key: now)
        }
        return (config.iterateDatagenSeedOverRepetitions ? config.dataGenSeed + repetition : config.dataGenSeed, initialPrefix)
    }

    /// The sequences every hard-prefix candidate is scored on (HardPT and PreBayesPT).
    func hardPrefixSearchSequences() throws -> Tensor {
        let hard = spec.hardPrefix!
        return try makeDataGenerator(spec.tuningDataConfig)
            .generate(key: RandomKey(seed: UInt64(hard.dataGenSeed)), batchSize: hard.numSequences,
                      sequenceLength: spec.tuningDataConfig.sequenceLength).sequences
    }

    /// Runs one unit. `input(i)` gives the output of unit `i`, one of the
    /// unit's dependencies; `sources` are `evaluationSources()`.
    public func execute(_ unit: ExperimentUnit, sources: [EvaluationSource],
                        input: (Int) throws -> ExperimentUnitOutput) throws -> ExperimentUnitOutput {
        let predictor = try Predictor(config: spec.predictorConfig, torsoConfig: spec.torsoConfig)
        var output = ExperimentUnitOutput()
        let batchSize = spec.evalBatchSize >= 1 ? spec.evalBatchSize : nil
        /// The pretrained (or initial) parameters, from the plan's first unit.
        func pretrainedParameters() throws -> ParameterTree {
            guard let parameters = try input(0).parameters else {
                throw ThunniniError("unit '\(unit.name)': the output of unit 0 holds no parameters")
            }
            return parameters
        }
        func evaluate(_ method: String, parameters: ParameterTree, prefix: Prefix) throws {
            // One progress step per evaluation source.
            let reporter = progress("evaluate \(method)", total: sources.count).reporter
            for (index, source) in sources.enumerated() {
                let result = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: source.sequences,
                                                     prefix: prefix, batchSize: batchSize)
                output.evaluations.append(.init(source: source.name, method: method, losses: result.instantLosses,
                                                exampleLogProbs: Self.exampleRows(result.logProbabilities)))
                reporter?.update(step: index + 1)
            }
            reporter?.finish()
        }
        func addBayes(_ method: String, _ solved: (logProbs: Tensor, instantLosses: Tensor), on source: EvaluationSource) {
            output.evaluations.append(.init(source: source.name, method: method, losses: solved.instantLosses,
                                            exampleLogProbs: Self.exampleRows(solved.logProbs)))
        }

        switch unit.kind {
        case .pretrain:
            if let pretraining = spec.pretraining {
                let (reporter, onStep) = progress("pretrain", total: pretraining.trainingConfig.numTrainingSteps)
                let trained = try Pretraining.train(predictor: predictor, data: pretraining.dataConfig,
                                                    config: pretraining.trainingConfig, onStep: onStep)
                reporter?.finish()
                output.parameters = trained.parameters
                output.pretrainingCurves = .init(losses: trained.losses, gradientNorms: trained.gradientNorms)
            } else {
                output.parameters = predictor.initialParameters(seed: spec.predictorInitSeed!)
            }

        case .tune(let name, let repetition):
            guard let config = spec.tuningConfigs.first(where: { $0.name == name })?.config,
                  (1...config.numTuningRepetitions).contains(repetition) else {
                throw ThunniniError("unit '\(unit.name)': the experiment has no tuning config '\(name)' with repetition \(repetition)")
            }
            let parameters = try pretrainedParameters()
            let start = tuningStart(config, repetition: repetition)
            let (reporter, onStep) = progress("tune \(name) rep \(repetition)/\(config.numTuningRepetitions)", total: config.numTuningSteps + 1)
            let tuned: Tuning.Result
            do {
                tuned = try Tuning.tune(predictor: predictor, parameters: parameters, data: spec.tuningDataConfig,
                                        config: config, initialPrefix: start.initialPrefix, overrideDataGenSeed: start.dataSeed, onStep: onStep)
            } catch let error as ThunniniError {
                throw ThunniniError("tuning_configs[\(name)] repetition \(repetition): \(error.message)")
            }
            reporter?.finish()
            output.tuningRun = .init(losses: tuned.losses, gradientNorms: tuned.gradientNorms, initialPrefix: tuned.initialPrefix,
                                     prefix: tuned.prefix, parameters: config.tuningMethod.isPrefixMethod ? nil : tuned.parameters)
            try evaluate(name, parameters: tuned.parameters, prefix: Prefix(type: config.tuningMethod.prefixType ?? .none, values: tuned.prefix))

        case .hardPrefixCandidates(let range):
            let parameters = try pretrainedParameters()
            let sequences = try hardPrefixSearchSequences()
            let candidates = try HardPrefixSearch.candidates(vocabSize: spec.predictorConfig.tokenDimensionality,
                                                             length: spec.hardPrefix!.prefixLength)
            guard range.upperBound <= candidates.count else {
                throw ThunniniError("unit '\(unit.name)': candidates \(range) exceed the \(candidates.count) of the search")
            }
            let (reporter, onCandidate) = progress("hard prefix search candidates \(range.lowerBound)-\(range.upperBound - 1)", total: range.count)
            output.candidateLosses = try HardPrefixSearch.losses(predictor: predictor, parameters: parameters, sequences: sequences,
                                                                 candidates: Array(candidates[range]), batchSize: batchSize, onCandidate: onCandidate)
            reporter?.finish()

        case .hardPrefix(let split):
            let parameters = try pretrainedParameters()
            let found: HardPrefixSearch.Result
            if split {
                var losses: [Double] = []
                for dependency in unit.dependencies.dropFirst() { losses += try input(dependency).candidateLosses ?? [] }
                found = try HardPrefixSearch.choose(vocabSize: spec.predictorConfig.tokenDimensionality,
                                                    length: spec.hardPrefix!.prefixLength, candidateLosses: losses)
            } else {
                let count = try HardPrefixSearch.candidates(vocabSize: spec.predictorConfig.tokenDimensionality,
                                                            length: spec.hardPrefix!.prefixLength).count
                let (reporter, onCandidate) = progress("hard prefix search", total: count)
                found = try HardPrefixSearch.search(predictor: predictor, parameters: parameters, sequences: try hardPrefixSearchSequences(),
                                                    length: spec.hardPrefix!.prefixLength, batchSize: batchSize, onCandidate: onCandidate)
                reporter?.finish()
            }
            output.hardPrefix = ("HardPT", .init(tokens: found.tokens, loss: found.loss, candidateLosses: found.candidateLosses))
            try evaluate("HardPT", parameters: parameters, prefix: Prefix(type: .prepend, values: found.prefix))

        case .baseline(let baseline, let repetition):
            switch baseline {
            case .targetBayes, .evalBayes:
                for (named, source) in zip(spec.evalDataConfigs, sources) where spec.bayesLabel(for: named) == baseline.rawValue {
                    addBayes(baseline.rawValue, source.generator.solve(sequences: source.sequences), on: source)
                }
            case .groundTruth:
                for source in sources {
                    addBayes(baseline.rawValue, (source.groundTruthLogProbs, source.groundTruthLosses), on: source)
                }
            case .noTuning:
                try evaluate(baseline.rawValue, parameters: try pretrainedParameters(), prefix: .none)
            case .randomPF:
                let real = spec.tuningConfigs.first { $0.config.tuningMethod == .prefixReal }!.config
                let initialPrefix = tuningStart(real, repetition: repetition ?? 1).initialPrefix!
                try evaluate(baseline.rawValue, parameters: try pretrainedParameters(), prefix: Prefix(type: .prepend, values: initialPrefix))
            case .preBayes:
                let pretrainingBayes = try makeDataGenerator(spec.pretraining!.dataConfig)
                for source in sources { addBayes(baseline.rawValue, pretrainingBayes.solve(sequences: source.sequences), on: source) }
            case .preBayesPT:
                let pretrainingBayes = try makeDataGenerator(spec.pretraining!.dataConfig)
                let found = try HardPrefixSearch.search(bayes: pretrainingBayes, sequences: try hardPrefixSearchSequences(),
                                                        length: spec.hardPrefix!.prefixLength)
                output.hardPrefix = (baseline.rawValue, .init(tokens: found.tokens, loss: found.loss, candidateLosses: found.candidateLosses))
                for source in sources {
                    addBayes(baseline.rawValue, HardPrefixSearch.bayesWithPrefix(pretrainingBayes, prefix: found.prefix, sequences: source.sequences),
                             on: source)
                }
            case .untrained:
                try evaluate(baseline.rawValue, parameters: predictor.initialParameters(seed: spec.untrainedInitSeed!), prefix: .none)
            }

        case .dynamics:
            output.dynamics = try dynamics(parameters: try pretrainedParameters(),
                                           networks: try dynamicsNetworks(unit: unit, input: input), sources: sources)
        }
        return output
    }

    /// The networks whose internal states the dynamics figure shows, in its
    /// order: NoTuning, RandomPF (the first prefix_real config's first initial
    /// prefix), HardPT, then the first repetition of every prefix method. The
    /// dynamics unit depends on unit 0, the first repetition of each prefix
    /// method in config order, then the hard-prefix unit (`ExperimentSpec.units`).
    func dynamicsNetworks(unit: ExperimentUnit, input: (Int) throws -> ExperimentUnitOutput) throws
        -> [(name: String, parameters: ParameterTree, prefix: Prefix)] {
        let parameters = try input(0).parameters!
        var networks: [(name: String, parameters: ParameterTree, prefix: Prefix)] = [("NoTuning", parameters, .none)]
        if let real = spec.tuningConfigs.first(where: { $0.config.tuningMethod == .prefixReal }) {
            networks.append((Baseline.randomPF.rawValue, parameters,
                             Prefix(type: .prepend, values: tuningStart(real.config, repetition: 1).initialPrefix!)))
        }
        let prefixMethods = spec.tuningConfigs.filter { $0.config.tuningMethod.isPrefixMethod }
        var dependencies = unit.dependencies.dropFirst()
        var tuned: [(name: String, parameters: ParameterTree, prefix: Prefix)] = []
        for named in prefixMethods {
            guard let dependency = dependencies.popFirst(), let run = try input(dependency).tuningRun else {
                throw ThunniniError("unit '\(unit.name)': no first repetition of '\(named.name)' among its dependencies")
            }
            tuned.append((named.name, parameters, Prefix(type: named.config.tuningMethod.prefixType!, values: run.prefix)))
        }
        if let dependency = dependencies.popFirst() {
            guard let (name, found) = try input(dependency).hardPrefix else {
                throw ThunniniError("unit '\(unit.name)': its last dependency holds no hard prefix")
            }
            networks.append((name, parameters, Prefix(type: .prepend, values: HardPrefixSearch.oneHot(found.tokens, vocabSize: spec.predictorConfig.tokenDimensionality))))
        }
        return networks + tuned
    }

    /// The first `ExperimentResults.exampleSequenceCount` rows of B x T x V log-probabilities.
    static func exampleRows(_ logProbs: Tensor) -> Tensor {
        Evaluation.rows(logProbs, 0, min(ExperimentResults.exampleSequenceCount, logProbs.shape[0]))
    }

    /// One evaluation source with its shared sequences.
    public struct EvaluationSource {
        var name: String
        var generator: any DataGenerator
        var sequences: Tensor
        var groundTruthLosses: Tensor
        var groundTruthLogProbs: Tensor
    }

    /// The "Internal dynamics" data (nil for the Linear torso, which has no
    /// states, and without pretraining, whose source the PCA is fitted on):
    /// a two-component whitened PCA fitted on the internal states of the
    /// pretrained network on `Dynamics.fitSequences` x `Dynamics.fitLength`
    /// sequences of the pretraining source (drawn from the second half of
    /// `split(RandomKey(eval_datagen_seed))`), and the projected trajectories
    /// of each network on the first `Dynamics.trajectoryCount` evaluation
    /// sequences of every source.
    func dynamics(parameters: ParameterTree, networks: [(name: String, parameters: ParameterTree, prefix: Prefix)],
                  sources: [EvaluationSource]) throws -> ExperimentResults.Dynamics? {
        guard let pretraining = spec.pretraining, !InternalStates.stateNames(of: spec.torsoConfig).isEmpty else { return nil }
        let statePredictor = try Predictor(config: spec.predictorConfig, torsoConfig: InternalStates.returningStates(spec.torsoConfig))
        let generator = try makeDataGenerator(pretraining.dataConfig)
        let key = RandomKey(seed: UInt64(spec.evalDatagenSeed)).split(into: 2)[1]
        let fit = generator.generate(key: key, batchSize: ExperimentResults.Dynamics.fitSequences,
                                     sequenceLength: ExperimentResults.Dynamics.fitLength)
        let states = try InternalStates.trajectories(predictor: statePredictor, parameters: parameters, sequences: fit.sequences)
        let width = states.shape[2]
        let count = states.shape[0] * states.shape[1]
        var rows: [[Double]] = []
        for r in 0..<count { rows.append(Array(states.storage[(r * width)..<((r + 1) * width)])) }
        let pca = try PCA(fitting: rows, count: 2)
        var dynamics = ExperimentResults.Dynamics(pca: pca, fitProjection: pca.project(states),
                                                  fitGroundTruthLogProbs: fit.groundTruthLogProbs)
        for source in sources {
            let count = min(ExperimentResults.Dynamics.trajectoryCount, source.sequences.shape[0])
            let sequences = Evaluation.rows(source.sequences, 0, count)
            for network in networks {
                let trajectories = try InternalStates.trajectories(predictor: statePredictor, parameters: network.parameters,
                                                                   sequences: sequences, prefix: network.prefix)
                dynamics.trajectories.append(.init(source: source.name, method: network.name, prefixLength: network.prefix.length,
                                                   projection: pca.project(trajectories)))
            }
        }
        return dynamics
    }
}
