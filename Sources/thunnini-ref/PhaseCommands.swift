import ArgumentParser
import Foundation
import Thunnini

/// The predictor the single-phase commands work on.
struct PredictorOptions: ParsableArguments {
    @Option(name: .long, help: "PredictorConfig file (JSON: token_dimensionality, embedding_dimensionality).")
    var predictorConfig: String

    @Option(name: .long, help: "Torso config file (JSON, torso_type Linear/LSTM/Transformer).")
    var torsoConfig: String

    func makePredictor() throws -> Predictor {
        let predictor = try loadConfig(PredictorConfig.self, path: predictorConfig)
        let torso = try loadConfig(TorsoConfig.self, path: torsoConfig)
        return try Predictor(config: predictor, torsoConfig: torso)
    }

    /// Refuses (one line) a predictor plus a pass over `data`'s batches that
    /// would need more than the memory budget, before anything is allocated.
    func checkMemory(data: DataGeneratorConfig, dataPath: String, prefix: Int = 0, prefixKey: String = "prefix_length", backward: Bool,
                     batch: Int? = nil, extraSequenceCopies: Int = 0) throws {
        try checkMemory(shape: [data.batchSize, data.sequenceLength, data.vocabSize], keys: data.sizeKeys("\(dataPath): "),
                        source: dataPath, prefix: prefix, prefixKey: prefixKey, backward: backward, batch: batch,
                        extraSequenceCopies: extraSequenceCopies)
    }

    /// The same for B x T x V sequences of `shape`.
    func checkMemory(shape: [Int], keys: String, source: String, prefix: Int = 0, prefixKey: String = "prefix_length", backward: Bool,
                     batch: Int? = nil, extraSequenceCopies: Int = 0) throws {
        let predictorConfig = try loadConfig(PredictorConfig.self, path: self.predictorConfig)
        let torso = try loadConfig(TorsoConfig.self, path: torsoConfig)
        var estimate = MemoryEstimate()
        estimate.keepPredictor(predictorConfig, torso, keys: "\(self.predictorConfig), \(torsoConfig)")
        estimate.phasePass(predictorConfig, torso, batch: batch ?? shape[0], length: shape[1],
                           prefix: prefix, prefixKey: prefixKey, backward: backward, keys: keys)
        if extraSequenceCopies > 0 {
            estimate.keepSequences(batch: shape[0], length: shape[1], vocab: shape[2], copies: extraSequenceCopies, keys: keys)
        }
        try estimate.check(source: source)
    }

    /// Parameters from an .npz of Flax paths, checked against the predictor.
    func loadParameters(_ path: String, for predictor: Predictor) throws -> ParameterTree {
        let tree = try ParameterTree.load(npz: URL(fileURLWithPath: path), expected: predictor.initialParameters(seed: 0))
        try predictor.checkParameters(tree, context: path)
        return tree
    }
}

/// `thunnini-ref train`: pretraining alone.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Pretrain a predictor on a data source; writes parameters.npz and curves.json to a directory.")

    @OptionGroup var predictor: PredictorOptions
    @Option(name: .long, help: "Data-generator config file (the pretraining source).") var dataConfig: String
    @Option(name: .long, help: "TrainingConfig file.") var trainingConfig: String
    @Option(name: .long, help: "Output directory (written atomically).") var out: String
    @Flag(name: .long, help: "Replace an existing output directory.") var overwrite = false

    @OptionGroup var threadOptions: ThreadOptions

    @OptionGroup var memoryOptions: MemoryOptions

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            try memoryOptions.apply()
            try prepareOutput(out, overwrite: overwrite)
            let data = try loadConfig(DataGeneratorConfig.self, path: dataConfig)
            let training = try loadConfig(TrainingConfig.self, path: trainingConfig)
            try predictor.checkMemory(data: data, dataPath: dataConfig, backward: true)
            let model = try predictor.makePredictor()
            let reporter = ProgressReporter(phase: "train", total: training.numTrainingSteps)
            let result = try Pretraining.train(predictor: model, data: data, config: training) { reporter.update(step: $0, loss: $1) }
            reporter.finish()
            let output = try AtomicOutputDirectory(destination: URL(fileURLWithPath: out), overwrite: overwrite)
            try output.write(npz: result.parameters.values, to: "parameters.npz")
            try output.write(json: ["loss": result.losses, "grad_norm_unclipped": result.gradientNorms], to: "curves.json")
            try output.commit()
        }
    }
}

/// `thunnini-ref tune`: one tuning run.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Tune a predictor (weights or a prefix) to a data source; writes the result to a directory.",
        discussion: "Writes curves.json, and parameters.npz (weight methods) or prefix.npz with initial_prefix and prefix (prefix methods).")

    @OptionGroup var predictor: PredictorOptions
    @Option(name: .long, help: "Parameters to start from (.npz of Flax paths, e.g. a train output).") var parameters: String
    @Option(name: .long, help: "Data-generator config file (the tuning source).") var dataConfig: String
    @Option(name: .long, help: "TuningConfig file.") var tuningConfig: String
    @Option(name: .long, help: "Initial prefix (.npz with an array 'prefix'); default: drawn by prefix_init_method.") var initialPrefix: String?
    @Option(name: .long, help: "Output directory (written atomically).") var out: String
    @Flag(name: .long, help: "Replace an existing output directory.") var overwrite = false

    @OptionGroup var threadOptions: ThreadOptions

    @OptionGroup var memoryOptions: MemoryOptions

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            try memoryOptions.apply()
            try prepareOutput(out, overwrite: overwrite)
            let data = try loadConfig(DataGeneratorConfig.self, path: dataConfig)
            // With --initial-prefix, prefix_length and prefix_init_method are
            // not needed (validated in Tuning.tune, which names the field).
            let tuning = initialPrefix == nil ? try loadConfig(TuningConfig.self, path: tuningConfig)
                : try loadJSON(TuningConfig.self, path: tuningConfig)
            if initialPrefix != nil, !tuning.tuningMethod.isPrefixMethod {
                throw ThunniniError("--initial-prefix was given, but \(tuningConfig): tuning_method '\(tuning.tuningMethod.rawValue)' tunes weights, not a prefix")
            }
            try predictor.checkMemory(data: data, dataPath: dataConfig,
                                      prefix: tuning.tuningMethod.isPrefixMethod ? tuning.prefixLength ?? 0 : 0,
                                      prefixKey: "\(tuningConfig): prefix_length", backward: true)
            let model = try predictor.makePredictor()
            let start = try predictor.loadParameters(parameters, for: model)
            var given: Tensor? = nil
            if let initialPrefix {
                guard let prefix = try NPZ.read(URL(fileURLWithPath: initialPrefix), only: ["prefix"])["prefix"] else {
                    throw ThunniniError("\(initialPrefix): no array 'prefix'")
                }
                try ArrayChecks.finite(prefix, name: "prefix", source: initialPrefix)
                given = prefix
            }
            let reporter = ProgressReporter(phase: "tune \(tuning.tuningMethod.rawValue)", total: tuning.numTuningSteps + 1)
            do {
                try tuning.validate(withInitialPrefix: given != nil)
            } catch let error as ThunniniError {
                throw ThunniniError("\(tuningConfig): \(error.message)")
            }
            let result = try Tuning.tune(predictor: model, parameters: start, data: data, config: tuning, initialPrefix: given) {
                reporter.update(step: $0, loss: $1)
            }
            reporter.finish()
            let output = try AtomicOutputDirectory(destination: URL(fileURLWithPath: out), overwrite: overwrite)
            try output.write(json: ["loss": result.losses, "grad_norm_unclipped": result.gradientNorms], to: "curves.json")
            if let initial = result.initialPrefix, let prefix = result.prefix {
                try output.write(npz: ["initial_prefix": initial, "prefix": prefix], to: "prefix.npz")
            } else {
                try output.write(npz: result.parameters.values, to: "parameters.npz")
            }
            try output.commit()
        }
    }
}

/// `thunnini-ref evaluate`: a predictor (optionally with a prefix) on sequences.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a predictor on sequences from a data source or a file; writes losses, predictions and regrets.",
        discussion: """
            With --data-config, draws --num-batches batches of batch_size sequences as the original's \
            evaluate_predictor_from_datagen does (batch keys: the first half of split(key(--seed)), then the \
            first half of each further split of the second half) and also writes the ground truth, the \
            source's Bayes predictor, and regret.json (instant and cumulative regret against the ground truth). \
            With --sequences, evaluates the B x T x V array 'sequences' of an .npz. Hidden states are written \
            when the torso config has return_hidden_states.
            """)

    @OptionGroup var predictor: PredictorOptions
    @Option(name: .long, help: "Parameters (.npz of Flax paths).") var parameters: String
    @Option(name: .long, help: "Data-generator config file to draw evaluation sequences from.") var dataConfig: String?
    @Option(name: .long, help: "Seed of the evaluation sequences (with --data-config).") var seed: Int = 1337
    @Option(name: .long, help: "Batches of batch_size sequences to draw (with --data-config; datagen_num_batches).") var numBatches: Int = 1
    @Option(name: .long, help: "Sequences to evaluate (.npz with an array 'sequences', B x T x V one-hot).") var sequences: String?
    @Option(name: .long, help: "Prefix (.npz with an array 'prefix').") var prefix: String?
    @Option(name: .long, help: "Prefix type: prepend, simplex or embedding (with --prefix).") var prefixType: String?
    @Option(name: .long, help: "Sequences per forward pass (does not change results).") var batchSize: Int?
    @Option(name: .long, help: "Output directory (written atomically).") var out: String
    @Flag(name: .long, help: "Replace an existing output directory.") var overwrite = false

    @OptionGroup var threadOptions: ThreadOptions

    @OptionGroup var memoryOptions: MemoryOptions

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            try memoryOptions.apply()
            try prepareOutput(out, overwrite: overwrite)
            if let batchSize, batchSize < 1 { throw ThunniniError("--batch-size must be >= 1, got \(batchSize)") }
            let fullPrefix = try loadPrefix()
            let prefixRows = fullPrefix.values?.shape.first ?? 0
            var arrays: [String: Tensor] = [:]
            var groundTruthLosses: Tensor? = nil
            let input: Tensor
            let model: Predictor
            let tree: ParameterTree
            switch (dataConfig, sequences) {
            case (let path?, nil):
                guard seed >= 0 else { throw ThunniniError("--seed must be >= 0, got \(seed)") }
                guard (1...(1 << 20)).contains(numBatches) else {
                    throw ThunniniError("--num-batches must be between 1 and \(1 << 20), got \(numBatches)")
                }
                let config = try loadConfig(DataGeneratorConfig.self, path: path)
                try predictor.checkMemory(data: config, dataPath: path, prefix: prefixRows, backward: false,
                                          batch: batchSize.map { min($0, config.batchSize) }, extraSequenceCopies: 6 * numBatches)
                model = try predictor.makePredictor()
                tree = try predictor.loadParameters(parameters, for: model)
                let generator = try makeDataGenerator(config)
                let drawn = Evaluation.generateFromDatagen(generator, seed: UInt64(seed), numBatches: numBatches)
                input = drawn.sequences
                arrays["ground_truth_log_probs"] = drawn.groundTruthLogProbs
                groundTruthLosses = instantLogLosses(logits: drawn.groundTruthLogProbs, sequences: input)
                arrays["ground_truth_instant_losses"] = groundTruthLosses
                let bayes = generator.solve(sequences: input)
                arrays["bayes_log_probs"] = bayes.logProbs
                arrays["bayes_instant_losses"] = bayes.instantLosses
            case (nil, let path?):
                // The memory check runs on the shape the .npy header declares,
                // before the array is inflated.
                let arrays = try NPZ.read(URL(fileURLWithPath: path), only: ["sequences"]) { _, shape in
                    guard shape.count == 3 else {
                        throw ThunniniError("\(path): array 'sequences' has shape \(shape), expected B x T x V")
                    }
                    try predictor.checkMemory(shape: shape, keys: "\(path): sequences of shape \(shape)", source: path,
                                              prefix: prefixRows, backward: false, batch: batchSize.map { min($0, shape[0]) }, extraSequenceCopies: 3)
                }
                guard let loaded = arrays["sequences"] else {
                    throw ThunniniError("\(path): no array 'sequences'")
                }
                try ArrayChecks.oneHotSequences(loaded, name: "sequences", source: path)
                model = try predictor.makePredictor()
                tree = try predictor.loadParameters(parameters, for: model)
                input = loaded
            default:
                throw ThunniniError("give exactly one of --data-config and --sequences")
            }
            let result = try Evaluation.evaluate(predictor: model, parameters: tree, sequences: input, prefix: fullPrefix, batchSize: batchSize)
            // Finite parameters, prefix and sequences can still overflow (huge weights): refuse to write NaN.
            try ArrayChecks.finite(result.instantLosses, name: "instant_losses", source: "evaluation result")
            arrays["sequences"] = input
            arrays["log_probs"] = result.logProbabilities
            arrays["instant_losses"] = result.instantLosses
            for (name, state) in result.states ?? [:] { arrays["states/\(name)"] = state }
            let output = try AtomicOutputDirectory(destination: URL(fileURLWithPath: out), overwrite: overwrite)
            try output.write(npz: arrays, to: "results.npz")
            if let groundTruthLosses {
                let instant = Regret.instant(losses: result.instantLosses, groundTruthLosses: groundTruthLosses)
                try output.write(json: ["instant_regret": instant, "cumulative_regret": Regret.cumulative(instant)], to: "regret.json")
            }
            try output.commit()
        }
    }

    func loadPrefix() throws -> Prefix {
        switch (prefix, prefixType) {
        case (nil, nil): return .none
        case (let path?, let typeName?):
            guard let type = PrefixType(rawValue: typeName), type != .none else {
                throw ThunniniError("--prefix-type must be prepend, simplex or embedding, got '\(typeName)'")
            }
            guard let values = try NPZ.read(URL(fileURLWithPath: path), only: ["prefix"])["prefix"] else { throw ThunniniError("\(path): no array 'prefix'") }
            try ArrayChecks.finite(values, name: "prefix", source: path)
            return Prefix(type: type, values: values)
        default:
            throw ThunniniError("--prefix and --prefix-type go together")
        }
    }
}
