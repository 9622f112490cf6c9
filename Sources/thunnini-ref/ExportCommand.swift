import ArgumentParser
import Foundation
import Thunnini

/// `thunnini-ref export`: cross-check bundles (format `thunnini-crosscheck/1`)
/// computed by this implementation, for other implementations to check
/// themselves against (Docs/crosscheck.md).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write cross-check bundles (bundle.json + arrays.npz, float64) computed by thunnini-ref.",
        discussion: """
            The bundles have the array names and layout of the original's (Golden/crosscheck/thunnini-jax); \
            `thunnini-ref crosscheck DIR --require-all --exact` reproduces every array bit for bit. \
            Docs/crosscheck.md explains each array and the tolerances to use.
            """,
        subcommands: [ExportPredictorCommand.self, ExportDatagenCommand.self]
    )
}

/// Where a bundle goes.
struct BundleOutputOptions: ParsableArguments {
    @Option(name: .long, help: "Bundle directory to create (written atomically; its name is the bundle's name).")
    var out: String

    @Flag(name: .long, help: "Replace an existing bundle directory.")
    var overwrite = false

    /// Claims the output directory (refusing an existing one) before any computation.
    func open() throws -> AtomicOutputDirectory {
        try AtomicOutputDirectory(destination: URL(fileURLWithPath: out), overwrite: overwrite)
    }

    var bundleName: String { URL(fileURLWithPath: out).standardizedFileURL.lastPathComponent }
}

/// `thunnini-ref export predictor`.
struct ExportPredictorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predictor",
        abstract: "A predictor bundle: forward passes for every prefix type, gradients and optimizer steps for every tuning method.",
        discussion: """
            Inputs are seeded unless given: parameters = initialisation from --seed plus N(0, 0.1^2) noise on \
            every entry (so biases and LoRA factors are non-zero); uniformly random one-hot sequences (B x T x V) \
            and S = --steps batches; prefixes of --prefix-length rows. --sequences FILE.npz must hold 'sequences' \
            and may hold 'tuning/batches' and 'case/prepend/prefix', 'case/simplex/prefix', 'case/embedding/prefix' \
            (the bundle names); what it lacks is seeded. Hidden states are exported when the torso config has \
            return_hidden_states.
            """)

    @OptionGroup var predictor: PredictorOptions
    @Option(name: .long, help: "Batch size B of the seeded sequences and batches.") var batch: Int = 3
    @Option(name: .long, help: "Sequence length T of the seeded sequences and batches.") var length: Int = 10
    @Option(name: .long, help: "Number K of prefix rows of the seeded prefixes.") var prefixLength: Int = 3
    @Option(name: .long, help: "Seed of every seeded input (>= 0).") var seed: Int = 0
    @Option(name: .long, help: "Parameters (.npz of Flax paths 'params/...') instead of seeded ones.") var parameters: String?
    @Option(name: .long, help: "Inputs (.npz with 'sequences', optionally batches and prefixes; see below).") var sequences: String?
    @Option(name: .long, help: "'all' (every method the torso admits) or a comma-separated list of tuning methods.") var methods: String = "all"
    @Option(name: .long, help: "Optimizer steps S per method (>= 1); after_step1 and after_step<S> are written.") var steps: Int = 3
    @Option(name: .long, help: "Adam's learning rate.") var learningRate: Double = 0.01
    @Option(name: .long, help: "Global-norm clipping threshold.") var maxGradNorm: Double = 1
    @OptionGroup var output: BundleOutputOptions
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            let model = try predictor.makePredictor()
            let chosen = try CrosscheckExport.parseMethods(methods, for: model.torsoConfig)
            guard !chosen.isEmpty else { throw ThunniniError("--methods: no tuning method given") }
            for (flag, value) in [("--batch", batch), ("--length", length), ("--prefix-length", prefixLength), ("--steps", steps)] where value < 1 {
                throw ThunniniError("\(flag) must be >= 1, got \(value)")
            }
            guard seed >= 0 else { throw ThunniniError("--seed must be >= 0, got \(seed)") }
            // A bundle is a test vector, not a workload: refuse sizes that could not be allocated.
            let elements = [batch, length, steps + 1, model.config.tokenDimensionality].reduce(1) { product, factor in
                let (result, overflow) = product.multipliedReportingOverflow(by: factor)
                return overflow ? Int.max : result
            }
            guard elements <= 10_000_000 else {
                throw ThunniniError("--batch x --length x (--steps + 1) x V = \(elements == Int.max ? "too many" : String(elements)) token entries; a bundle allows at most 10000000")
            }
            guard learningRate.isFinite, learningRate > 0 else { throw ThunniniError("--learning-rate must be > 0, got \(learningRate)") }
            guard maxGradNorm.isFinite, maxGradNorm > 0 else { throw ThunniniError("--max-grad-norm must be > 0, got \(maxGradNorm)") }
            // Claim the output before computing anything (removed again if anything below fails).
            let out = try output.open()

            var inputs = CrosscheckExport.randomPredictorInputs(predictor: model, batchSize: batch, sequenceLength: length,
                                                                prefixLength: prefixLength, steps: steps, seed: seed)
            var provenance = ["seed \(seed)"]
            if let parameters {
                inputs.parameters = try predictor.loadParameters(parameters, for: model)
                provenance.append("parameters from \(URL(fileURLWithPath: parameters).lastPathComponent)")
            }
            if let sequences {
                try loadInputs(sequences, for: model, into: &inputs)
                provenance.append("inputs from \(URL(fileURLWithPath: sequences).lastPathComponent)")
            }
            try inputs.check(for: model, steps: steps)
            let bundle = try CrosscheckExport.predictorBundle(
                name: output.bundleName, source: "thunnini-ref export predictor (\(provenance.joined(separator: ", "))), float64",
                predictor: model, inputs: inputs, methods: chosen, steps: steps,
                hyperparameters: .init(learningRate: learningRate, maxGradNorm: maxGradNorm))
            try bundle.write(to: out)
            try out.commit()
            print("wrote \(out.destination.path): \(bundle.arrays.count) arrays")
        }
    }

    /// Reads `sequences` and, where present, the batches and prefixes under
    /// their bundle names; any other array is refused (nothing is half-used).
    func loadInputs(_ path: String, for model: Predictor, into inputs: inout CrosscheckExport.PredictorInputs) throws {
        let arrays = try NPZ.read(URL(fileURLWithPath: path))
        let known = ["sequences", "tuning/batches"] + [PrefixType.prepend, .simplex, .embedding].map { "case/\($0.rawValue)/prefix" }
        if let stray = arrays.keys.sorted().first(where: { !known.contains($0) }) {
            throw ThunniniError("\(path): unexpected array '\(stray)' (expected \(known.joined(separator: ", ")))")
        }
        guard let given = arrays["sequences"] else { throw ThunniniError("\(path): no array 'sequences'") }
        inputs.sequences = given
        if let batches = arrays["tuning/batches"] {
            inputs.batches = batches
        } else if given.rank == 3 {
            // Seeded batches of the given sequences' shape.
            inputs.batches = CrosscheckExport.randomPredictorInputs(
                predictor: model, batchSize: given.shape[0], sequenceLength: given.shape[1],
                prefixLength: prefixLength, steps: steps, seed: seed).batches
        }
        for type in [PrefixType.prepend, .simplex, .embedding] {
            if let prefix = arrays["case/\(type.rawValue)/prefix"] { inputs.prefixes[type] = prefix }
        }
    }
}

/// `thunnini-ref export datagen`.
struct ExportDatagenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datagen",
        abstract: "A data-generator bundle: sequences, ground truth, the Bayes predictor, and the exact expected instant regret.",
        discussion: """
            Draws batch_size sequences of sequence_length from the data config with --seed, and writes their \
            ground-truth and Bayes log-probabilities and instant losses, plus expected_instant_regret (T): the \
            exact expected instant regret of the source's own Bayes predictor, by enumeration.
            """)

    @Option(name: .long, help: "Data-generator config file (JSON).") var dataConfig: String
    @Option(name: .long, help: "Seed of the sequences (>= 0).") var seed: Int = 0
    @OptionGroup var output: BundleOutputOptions
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            let config = try loadConfig(DataGeneratorConfig.self, path: dataConfig)
            guard seed >= 0 else { throw ThunniniError("--seed must be >= 0, got \(seed)") }
            let out = try output.open()
            let bundle = try CrosscheckExport.datagenBundle(
                name: output.bundleName, source: "thunnini-ref export datagen (seed \(seed)), float64", config: config, seed: seed)
            try bundle.write(to: out)
            try out.commit()
            print("wrote \(out.destination.path): \(bundle.arrays.count) arrays")
        }
    }
}
