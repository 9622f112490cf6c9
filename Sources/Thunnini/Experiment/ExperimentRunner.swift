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
    public func run(pretrained: Pretrained? = nil) throws -> ExperimentResults {
        let predictor = try Predictor(config: spec.predictorConfig, torsoConfig: spec.torsoConfig)
        var results = ExperimentResults(spec: spec)

        // Pretraining (or a fresh initialisation).
        let parameters: ParameterTree
        if let pretrained, spec.pretraining != nil {
            parameters = pretrained.parameters
            results.pretraining = pretrained.curves
        } else if let pretraining = spec.pretraining {
            let (reporter, onStep) = progress("pretrain", total: pretraining.trainingConfig.numTrainingSteps)
            let trained = try Pretraining.train(predictor: predictor, data: pretraining.dataConfig,
                                                config: pretraining.trainingConfig, onStep: onStep)
            reporter?.finish()
            parameters = trained.parameters
            results.pretraining = .init(losses: trained.losses, gradientNorms: trained.gradientNorms)
        } else {
            parameters = predictor.initialParameters(seed: spec.predictorInitSeed!)
        }
        results.parameters = parameters

        // Evaluation sequences: one draw per source, all with the same seed.
        let evalKey = RandomKey(seed: UInt64(spec.evalDatagenSeed))
        var sources: [EvaluationSource] = []
        for named in spec.evalDataConfigs {
            let generator = try makeDataGenerator(named.config)
            let (sequences, groundTruthLogProbs) = generator.generate(key: evalKey)
            sources.append(EvaluationSource(name: named.name, generator: generator, sequences: sequences,
                                            groundTruthLosses: instantLogLosses(logits: groundTruthLogProbs, sequences: sequences),
                                            groundTruthLogProbs: groundTruthLogProbs))
            results.sequences[named.name] = ["sequences": sequences, "ground_truth_log_probs": groundTruthLogProbs]
        }
        let batchSize = spec.evalBatchSize >= 1 ? spec.evalBatchSize : nil
        func evaluate(_ method: String, parameters: ParameterTree, prefix: Prefix) throws {
            // One progress step per evaluation source.
            let reporter = progress("evaluate \(method)", total: sources.count).reporter
            for (index, source) in sources.enumerated() {
                let result = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: source.sequences,
                                                     prefix: prefix, batchSize: batchSize)
                results.addRepetition(source: source.name, method: method, losses: result.instantLosses,
                                      groundTruth: source.groundTruthLosses, logProbs: result.logProbabilities)
                reporter?.update(step: index + 1)
            }
            reporter?.finish()
        }

        // Networks whose internal states the dynamics figure shows, in its order.
        var dynamicsNetworks: [(name: String, parameters: ParameterTree, prefix: Prefix)] = [("NoTuning", parameters, .none)]

        // Tuning: every config, every repetition, evaluated on every source.
        let tuningGenerator = try makeDataGenerator(spec.tuningDataConfig)
        for named in spec.tuningConfigs {
            let config = named.config
            var prefixKey = RandomKey(seed: UInt64(config.prefixInitSeed))
            var dataSeed = config.dataGenSeed
            for repetition in 1...config.numTuningRepetitions {
                var initialPrefix: Tensor? = nil
                if let prefixType = config.tuningMethod.prefixType {
                    let (next, now) = prefixKey.split()
                    prefixKey = next
                    initialPrefix = Tuning.initialPrefix(length: config.prefixLength!, width: spec.predictorConfig.prefixWidth(prefixType), method: config.prefixInitMethod!, key: now)
                }
                if config.iterateDatagenSeedOverRepetitions { dataSeed += 1 }
                let (reporter, onStep) = progress("tune \(named.name) rep \(repetition)/\(config.numTuningRepetitions)", total: config.numTuningSteps + 1)
                let tuned: Tuning.Result
                do {
                    tuned = try Tuning.tune(predictor: predictor, parameters: parameters, data: spec.tuningDataConfig,
                                            config: config, initialPrefix: initialPrefix, overrideDataGenSeed: dataSeed, onStep: onStep)
                } catch let error as ThunniniError {
                    throw ThunniniError("tuning_configs[\(named.name)] repetition \(repetition): \(error.message)")
                }
                reporter?.finish()
                results.tuningRuns[named.name, default: []].append(.init(losses: tuned.losses, gradientNorms: tuned.gradientNorms,
                                                                         initialPrefix: tuned.initialPrefix, prefix: tuned.prefix,
                                                                         parameters: config.tuningMethod.isPrefixMethod ? nil : tuned.parameters))
                let tunedPrefix = Prefix(type: config.tuningMethod.prefixType ?? .none, values: tuned.prefix)
                try evaluate(named.name, parameters: tuned.parameters, prefix: tunedPrefix)
                if repetition == 1 && config.tuningMethod.isPrefixMethod {
                    dynamicsNetworks.append((named.name, tuned.parameters, tunedPrefix))
                }
                if repetition == 1 && config.tuningMethod == .prefixReal && !dynamicsNetworks.contains(where: { $0.name == Baseline.randomPF.rawValue }) {
                    dynamicsNetworks.insert((Baseline.randomPF.rawValue, parameters, Prefix(type: .prepend, values: tuned.initialPrefix)), at: 1)
                }
            }
        }

        // Hard-prefix search sequences (HardPT and PreBayesPT).
        var searchSequences: Tensor? = nil
        if let hard = spec.hardPrefix {
            searchSequences = tuningGenerator.generate(key: RandomKey(seed: UInt64(hard.dataGenSeed)), batchSize: hard.numSequences,
                                                       sequenceLength: spec.tuningDataConfig.sequenceLength).sequences
        }
        if let hard = spec.hardPrefix, hard.enabled {
            let candidateCount = try HardPrefixSearch.candidates(vocabSize: spec.predictorConfig.tokenDimensionality,
                                                                 length: hard.prefixLength).count
            let (reporter, onCandidate) = progress("hard prefix search", total: candidateCount)
            let found = try HardPrefixSearch.search(predictor: predictor, parameters: parameters, sequences: searchSequences!,
                                                    length: hard.prefixLength, batchSize: batchSize, onCandidate: onCandidate)
            reporter?.finish()
            results.hardPrefixes["HardPT"] = .init(tokens: found.tokens, loss: found.loss, candidateLosses: found.candidateLosses)
            try evaluate("HardPT", parameters: parameters, prefix: Prefix(type: .prepend, values: found.prefix))
            let afterRandom = dynamicsNetworks.firstIndex { $0.name == Baseline.randomPF.rawValue }.map { $0 + 1 } ?? 1
            dynamicsNetworks.insert(("HardPT", parameters, Prefix(type: .prepend, values: found.prefix)), at: afterRandom)
        }

        // Baselines, in the order listed.
        for baseline in spec.baselines {
            switch baseline {
            case .targetBayes, .evalBayes:
                for (named, source) in zip(spec.evalDataConfigs, sources) where spec.bayesLabel(for: named) == baseline.rawValue {
                    let solved = source.generator.solve(sequences: source.sequences)
                    results.addRepetition(source: source.name, method: baseline.rawValue, losses: solved.instantLosses,
                                          groundTruth: source.groundTruthLosses, logProbs: solved.logProbs)
                }
            case .groundTruth:
                for source in sources {
                    results.addRepetition(source: source.name, method: baseline.rawValue, losses: source.groundTruthLosses,
                                          groundTruth: source.groundTruthLosses, logProbs: source.groundTruthLogProbs)
                }
            case .noTuning:
                try evaluate(baseline.rawValue, parameters: parameters, prefix: .none)
            case .randomPF:
                let real = spec.tuningConfigs.first { $0.config.tuningMethod == .prefixReal }!
                for run in results.tuningRuns[real.name] ?? [] {
                    try evaluate(baseline.rawValue, parameters: parameters, prefix: Prefix(type: .prepend, values: run.initialPrefix))
                }
            case .preBayes:
                let pretrainingBayes = try makeDataGenerator(spec.pretraining!.dataConfig)
                for source in sources {
                    let solved = pretrainingBayes.solve(sequences: source.sequences)
                    results.addRepetition(source: source.name, method: baseline.rawValue, losses: solved.instantLosses,
                                          groundTruth: source.groundTruthLosses, logProbs: solved.logProbs)
                }
            case .preBayesPT:
                let pretrainingBayes = try makeDataGenerator(spec.pretraining!.dataConfig)
                let found = try HardPrefixSearch.search(bayes: pretrainingBayes, sequences: searchSequences!,
                                                        length: spec.hardPrefix!.prefixLength)
                results.hardPrefixes[baseline.rawValue] = .init(tokens: found.tokens, loss: found.loss, candidateLosses: found.candidateLosses)
                for source in sources {
                    let solved = HardPrefixSearch.bayesWithPrefix(pretrainingBayes, prefix: found.prefix, sequences: source.sequences)
                    results.addRepetition(source: source.name, method: baseline.rawValue, losses: solved.instantLosses,
                                          groundTruth: source.groundTruthLosses, logProbs: solved.logProbs)
                }
            case .untrained:
                try evaluate(baseline.rawValue, parameters: predictor.initialParameters(seed: spec.untrainedInitSeed!), prefix: .none)
            }
        }
        results.dynamics = try dynamics(parameters: parameters, networks: dynamicsNetworks, sources: sources)
        return results
    }

    /// One evaluation source with its shared sequences.
    struct EvaluationSource {
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
