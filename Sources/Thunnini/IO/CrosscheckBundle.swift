import Foundation

/// A cross-check bundle exported from the original JAX implementation:
/// `bundle.json` (configs, optimizer, tolerances, the list of arrays) and
/// `arrays.npz` (the arrays). See Docs/formats.md and
/// Golden/crosscheck/thunnini-jax/README.md.
public struct CrosscheckBundle: Sendable {
    /// The only `format` string this reader understands.
    public static let format = "thunnini-crosscheck/1"

    /// What the bundle checks.
    public enum Kind: String, Sendable {
        /// A predictor: forward passes per prefix type, gradients and optimizer steps per tuning method.
        case predictor
        /// A data generator: the Bayes predictor and ground truth on fixed sequences.
        case datagen
    }

    /// The three tolerances of a bundle, each `|a - b| <= atol + rtol * |b|`.
    public struct Tolerances: Sendable, Equatable {
        /// Forward values (logits, losses, states, data-generator quantities).
        public var forward: Tolerance
        /// Gradients and gradient norms.
        public var grad: Tolerance
        /// Parameters and prefixes after optimizer steps.
        public var afterStep: Tolerance
        /// Free text stored with the tolerances (e.g. what they assume).
        public var note: String?

        public init(forward: Tolerance, grad: Tolerance, afterStep: Tolerance, note: String? = nil) {
            self.forward = forward
            self.grad = grad
            self.afterStep = afterStep
            self.note = note
        }

        /// Zero everywhere: every array must be reproduced bit for bit.
        public static let exact = Tolerances(forward: Tolerance(atol: 0, rtol: 0), grad: Tolerance(atol: 0, rtol: 0),
                                             afterStep: Tolerance(atol: 0, rtol: 0), note: "exact comparison")
    }

    /// Adam's settings (optax names).
    public struct Adam: Sendable, Equatable {
        public var b1: Double
        public var b2: Double
        public var eps: Double
        public var epsRoot: Double

        public init(b1: Double, b2: Double, eps: Double, epsRoot: Double) {
            self.b1 = b1
            self.b2 = b2
            self.eps = eps
            self.epsRoot = epsRoot
        }
    }

    /// The optimizer the tuning steps used: `chain` of clipping then Adam.
    public struct Optimizer: Sendable, Equatable {
        public var learningRate: Double
        public var maxGradNorm: Double
        public var adam: Adam
        /// The optax transformations in order, e.g. `["clip_by_global_norm", "adam"]`.
        public var chain: [String]

        public init(learningRate: Double, maxGradNorm: Double, adam: Adam, chain: [String] = ["clip_by_global_norm", "adam"]) {
            self.learningRate = learningRate
            self.maxGradNorm = maxGradNorm
            self.adam = adam
            self.chain = chain
        }
    }

    /// One forward-pass case (`case/<name>/...` arrays).
    public struct Case: Sendable, Equatable {
        /// `none`, `prepend`, `simplex` or `embedding`.
        public var prefixType: String

        public init(prefixType: String) { self.prefixType = prefixType }
    }

    /// One tuning method (`tuning/<method>/...` arrays).
    public struct Tuning: Sendable, Equatable {
        /// The prefix type whose `case/<prefix type>/prefix` the method starts from.
        public var prefixType: String
        /// Number of optimizer steps S in `tuning/batches`.
        public var steps: Int

        public init(prefixType: String, steps: Int) {
            self.prefixType = prefixType
            self.steps = steps
        }
    }

    public var kind: Kind
    public var name: String
    /// Where the numbers came from (commit, framework versions).
    public var source: String
    public var tolerance: Tolerances
    public var predictorConfig: PredictorConfig?
    public var torsoConfig: TorsoConfig?
    public var datagenConfig: DataGeneratorConfig?
    /// Present in predictor bundles.
    public var optimizer: Optimizer?
    /// Forward cases by name (predictor bundles; empty otherwise).
    public var cases: [String: Case]
    /// Tuning methods by name (predictor bundles; empty otherwise).
    public var tuning: [String: Tuning]
    /// Every array of `arrays.npz`, checked against the shapes listed in `bundle.json`.
    public var arrays: [String: Tensor]

    /// A bundle from its parts (see `write(to:)` for the files it becomes).
    public init(kind: Kind, name: String, source: String, tolerance: Tolerances,
                predictorConfig: PredictorConfig? = nil, torsoConfig: TorsoConfig? = nil,
                datagenConfig: DataGeneratorConfig? = nil, optimizer: Optimizer? = nil,
                cases: [String: Case] = [:], tuning: [String: Tuning] = [:], arrays: [String: Tensor]) {
        self.kind = kind
        self.name = name
        self.source = source
        self.tolerance = tolerance
        self.predictorConfig = predictorConfig
        self.torsoConfig = torsoConfig
        self.datagenConfig = datagenConfig
        self.optimizer = optimizer
        self.cases = cases
        self.tuning = tuning
        self.arrays = arrays
    }

    /// Loads and checks the bundle in `directory`.
    public static func load(directory: URL) throws -> CrosscheckBundle {
        let jsonURL = directory.appendingPathComponent("bundle.json")
        let jsonSource = jsonURL.path
        let data: Data
        do {
            data = try Data(contentsOf: jsonURL)
        } catch {
            throw ThunniniError("\(jsonSource): cannot read (\(error.localizedDescription))")
        }
        let npzURL = directory.appendingPathComponent("arrays.npz")
        return try load(json: data, jsonSource: jsonSource, npz: { try NPZ.read(npzURL) }, npzSource: npzURL.path)
    }

    /// Checks and assembles a bundle from `bundle.json`'s bytes and a reader
    /// of its arrays (called only once the JSON is valid); the sources name
    /// the two parts in errors. The fuzzing target loads bundles through it.
    public static func load(json data: Data, jsonSource: String, npz readArrays: () throws -> [String: Tensor],
                            npzSource: String) throws -> CrosscheckBundle {
        let file = try decodeJSON(BundleFile.self, from: data, source: jsonSource)
        guard file.format == format else {
            throw ThunniniError("\(jsonSource): format is '\(file.format)', expected '\(format)'")
        }
        guard let kind = Kind(rawValue: file.kind) else {
            throw ThunniniError("\(jsonSource): kind is '\(file.kind)', expected 'predictor' or 'datagen'")
        }
        func validated(_ config: (some ValidatableConfig)?, _ key: String) throws {
            do {
                try config?.validate()
            } catch let error as ThunniniError {
                throw ThunniniError("\(jsonSource): \(key): \(error.message)")
            }
        }
        try validated(file.predictor_config, "predictor_config")
        try validated(file.torso_config, "torso_config")
        try validated(file.datagen_config, "datagen_config")
        switch kind {
        case .predictor:
            guard let predictor = file.predictor_config else { throw ThunniniError("\(jsonSource): missing key 'predictor_config'") }
            guard let torso = file.torso_config else { throw ThunniniError("\(jsonSource): missing key 'torso_config'") }
            guard file.optimizer != nil else { throw ThunniniError("\(jsonSource): missing key 'optimizer'") }
            do {
                try predictor.validate(with: torso)
            } catch let error as ThunniniError {
                throw ThunniniError("\(jsonSource): \(error.message)")
            }
        case .datagen:
            guard file.datagen_config != nil else { throw ThunniniError("\(jsonSource): missing key 'datagen_config'") }
        }
        try file.validateNumbers(source: jsonSource)
        for (method, entry) in file.tuning ?? [:] where entry.steps < 1 {
            throw ThunniniError("\(jsonSource): 'tuning.\(method).steps' must be >= 1, got \(entry.steps)")
        }

        let arrays = try readArrays()
        for (arrayName, shape) in file.arrays.sorted(by: { $0.key < $1.key }) {
            guard let array = arrays[arrayName] else {
                throw ThunniniError("\(npzSource): array '\(arrayName)' listed in bundle.json is missing")
            }
            guard array.shape == shape else {
                throw ThunniniError("\(npzSource): array '\(arrayName)' has shape \(array.shape), bundle.json lists \(shape)")
            }
        }
        if let extra = arrays.keys.sorted().first(where: { file.arrays[$0] == nil }) {
            throw ThunniniError("\(npzSource): array '\(extra)' is not listed in bundle.json")
        }
        try checkInputArrays(arrays, source: npzSource)

        let optimizer = file.optimizer.map { block in
            Optimizer(learningRate: block.learning_rate, maxGradNorm: block.max_grad_norm,
                      adam: Adam(b1: block.adam.b1, b2: block.adam.b2, eps: block.adam.eps, epsRoot: block.adam.eps_root),
                      chain: block.chain ?? ["clip_by_global_norm", "adam"])
        }
        return CrosscheckBundle(
            kind: kind, name: file.name, source: file.source ?? "",
            tolerance: Tolerances(forward: file.tolerance.forward, grad: file.tolerance.grad, afterStep: file.tolerance.after_step,
                                  note: file.tolerance.note),
            predictorConfig: file.predictor_config, torsoConfig: file.torso_config, datagenConfig: file.datagen_config,
            optimizer: optimizer,
            cases: (file.cases ?? [:]).mapValues { Case(prefixType: $0.prefix_type) },
            tuning: (file.tuning ?? [:]).mapValues { Tuning(prefixType: $0.prefix_type, steps: $0.steps) },
            arrays: arrays)
    }

    /// The array `name`, or an error naming the bundle and the array.
    public func array(_ name: String) throws -> Tensor {
        guard let array = arrays[name] else {
            throw ThunniniError("bundle '\(self.name)': no array '\(name)'")
        }
        return array
    }

    /// Compares `actual` against the bundle's array `name` (same as `ArrayComparison.compare`).
    public static func compare(name: String, actual: Tensor, expected: Tensor, tolerance: Tolerance) -> ArrayComparison {
        ArrayComparison.compare(name: name, actual: actual, expected: expected, tolerance: tolerance)
    }
}

/// The arrays a bundle feeds into this implementation (rather than compares
/// against) must be usable inputs: finite parameters and prefixes, one-hot
/// sequences and batches. Reference arrays may hold -inf (log 0) and are
/// only compared.
private func checkInputArrays(_ arrays: [String: Tensor], source: String) throws {
    for name in arrays.keys.sorted() {
        guard let array = arrays[name] else { continue }
        if name == "sequences" {
            try ArrayChecks.oneHotSequences(array, name: name, source: source)
        } else if name == "tuning/batches" {
            guard array.rank == 4 else {
                throw ThunniniError("\(source): array '\(name)' has shape \(array.shape), expected S x B x T x V")
            }
            let shape = [array.shape[0] * array.shape[1], array.shape[2], array.shape[3]]
            try ArrayChecks.oneHotSequences(Tensor(shape: shape, storage: array.storage), name: name, source: source)
        } else if name.hasPrefix("params/") || (name.hasPrefix("case/") && name.hasSuffix("/prefix")) {
            try ArrayChecks.finite(array, name: name, source: source)
        }
    }
}

extension BundleFile {
    /// Tolerances must be finite and non-negative; the optimizer's settings
    /// those the original accepts (a negative tolerance or learning rate
    /// would otherwise surface only as numeric mismatches).
    func validateNumbers(source: String) throws {
        func check(_ value: Double, _ key: String, _ ok: (Double) -> Bool, _ rule: String) throws {
            guard value.isFinite, ok(value) else {
                throw ThunniniError("\(source): '\(key)' must be \(rule), got \(value)")
            }
        }
        for (key, tolerance) in [("forward", tolerance.forward), ("grad", tolerance.grad), ("after_step", tolerance.after_step)] {
            try check(tolerance.atol, "tolerance.\(key).atol", { $0 >= 0 }, "finite and >= 0")
            try check(tolerance.rtol, "tolerance.\(key).rtol", { $0 >= 0 }, "finite and >= 0")
        }
        if let optimizer {
            try check(optimizer.learning_rate, "optimizer.learning_rate", { $0 > 0 }, "finite and > 0")
            try check(optimizer.max_grad_norm, "optimizer.max_grad_norm", { $0 > 0 }, "finite and > 0")
            try check(optimizer.adam.b1, "optimizer.adam.b1", { $0 >= 0 && $0 < 1 }, "in [0, 1)")
            try check(optimizer.adam.b2, "optimizer.adam.b2", { $0 >= 0 && $0 < 1 }, "in [0, 1)")
            try check(optimizer.adam.eps, "optimizer.adam.eps", { $0 >= 0 }, "finite and >= 0")
            try check(optimizer.adam.eps_root, "optimizer.adam.eps_root", { $0 >= 0 }, "finite and >= 0")
        }
    }
}

/// `bundle.json` exactly as written (snake_case keys); read by `load`,
/// written by `write(to:)`.
struct BundleFile: Codable {
    struct ToleranceBlock: Codable {
        var forward: Tolerance
        var grad: Tolerance
        var after_step: Tolerance
        var note: String?
    }

    struct AdamBlock: Codable {
        var b1: Double
        var b2: Double
        var eps: Double
        var eps_root: Double
    }

    struct OptimizerBlock: Codable {
        var learning_rate: Double
        var max_grad_norm: Double
        var adam: AdamBlock
        var chain: [String]?
    }

    struct CaseBlock: Codable {
        var prefix_type: String
    }

    struct TuningBlock: Codable {
        var prefix_type: String
        var steps: Int
    }

    var format: String
    var kind: String
    var name: String
    var source: String?
    /// What `loss` means (free text, predictor bundles).
    var loss: String?
    var tolerance: ToleranceBlock
    var predictor_config: PredictorConfig?
    var torso_config: TorsoConfig?
    var datagen_config: DataGeneratorConfig?
    var optimizer: OptimizerBlock?
    var cases: [String: CaseBlock]?
    var tuning: [String: TuningBlock]?
    var arrays: [String: [Int]]
}
