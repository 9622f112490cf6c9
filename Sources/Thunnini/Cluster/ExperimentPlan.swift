import Foundation

/// An experiment split into units (`ExperimentSpec.units`), as written to
/// `DIR/plan.json` by `thunnini-ref plan` (Docs/cluster.md).
///
/// The experiment is identified by its fingerprint: the SHA-256 of its
/// canonical form (the deterministic JSON of the decoded experiment, so
/// whitespace and key order of the file do not matter), which is copied to
/// `DIR/parts/experiment.json` and recorded by every part.
public struct ExperimentPlan: Sendable {
    /// The `format` string of `plan.json`.
    public static let formatName = "thunnini-ref experiment plan"
    /// The version of `plan.json` and of the parts' layout.
    public static let formatVersion = 1
    /// The floating-point rate assumed by the estimates unless given:
    /// a 2-core x86-64 machine running this implementation at the notebook's
    /// scale (Docs/cluster.md, "Estimates").
    public static let defaultGigaflopsPerSecond = 30.0
    /// Seconds added to each unit's estimate for starting a process and
    /// loading the experiment and its inputs.
    public static let startupSeconds = 0.5

    public let spec: ExperimentSpec
    /// The canonical bytes of the experiment (`JSONOutput`).
    public let canonicalExperiment: Data
    /// SHA-256 of `canonicalExperiment`, 64 hexadecimal digits.
    public let fingerprint: String
    /// The number of hard-prefix candidate ranges asked for (nil: the default).
    public let hardPrefixRanges: Int?
    public let units: [ExperimentUnit]
    /// The estimated cost of each unit, in plan order.
    public let estimates: [Estimate]
    /// The rate the estimates assume.
    public let gigaflopsPerSecond: Double

    /// A unit's estimated cost.
    public struct Estimate: Equatable, Sendable {
        /// Floating-point operations of its matrix products (`Benchmark.forwardFlops`).
        public var flops: Double
        /// `flops` at the plan's rate, plus `startupSeconds`.
        public var seconds: Double
    }

    /// The plan of `spec`.
    public init(spec: ExperimentSpec, hardPrefixRanges: Int? = nil,
                gigaflopsPerSecond: Double = ExperimentPlan.defaultGigaflopsPerSecond) throws {
        guard hardPrefixRanges.map({ $0 >= 1 }) ?? true else {
            throw ThunniniError("--hard-prefix-ranges must be at least 1, got \(hardPrefixRanges!)")
        }
        guard gigaflopsPerSecond.isFinite, gigaflopsPerSecond > 0 else {
            throw ThunniniError("--gflops must be a positive number, got \(gigaflopsPerSecond)")
        }
        self.spec = spec
        canonicalExperiment = try JSONOutput.encode(spec)
        fingerprint = SHA256.hex(canonicalExperiment)
        self.hardPrefixRanges = hardPrefixRanges
        units = try spec.units(hardPrefixRanges: hardPrefixRanges)
        self.gigaflopsPerSecond = gigaflopsPerSecond
        estimates = units.map { unit in
            let flops = UnitCost.flops(of: unit, in: spec)
            return Estimate(flops: flops, seconds: flops / (gigaflopsPerSecond * 1e9) + Self.startupSeconds)
        }
    }

    /// The unit named `name`, or nil.
    public func unit(named name: String) -> ExperimentUnit? { units.first { $0.name == name } }

    // MARK: - Wall time

    /// The estimated wall time on `machines` machines that each run one unit
    /// at a time: units are started in plan order, each on the machine that
    /// is free first, once the units it depends on have finished (list
    /// scheduling, as an array job with enough slots does).
    public func estimatedWallSeconds(machines: Int) -> Double {
        var finish = [Double](repeating: 0, count: units.count)
        var free = [Double](repeating: 0, count: max(1, machines))
        for (unit, estimate) in zip(units, estimates) {
            let ready = unit.dependencies.map { finish[$0] }.max() ?? 0
            let machine = free.indices.min { free[$0] < free[$1] }!
            let start = max(ready, free[machine])
            finish[unit.index] = start + estimate.seconds
            free[machine] = finish[unit.index]
        }
        return finish.max() ?? 0
    }

    /// The units' dependency depth: 0 for units that depend on nothing, else
    /// one more than the deepest unit they depend on. Units of one depth can
    /// run at once (one Slurm array job per depth).
    public var depths: [Int] {
        var depth = [Int](repeating: 0, count: units.count)
        for unit in units { depth[unit.index] = (unit.dependencies.map { depth[$0] + 1 }.max() ?? 0) }
        return depth
    }

    // MARK: - plan.json

    struct File: Codable {
        var format: String
        var version: Int
        var experiment: String
        var fingerprint: String
        var hardPrefixRanges: Int?
        var gigaflopsPerSecond: Double
        var units: [Unit]
        struct Unit: Codable {
            var unit: ExperimentUnit
            var estimatedFlops: Double
            var estimatedSeconds: Double
            init(unit: ExperimentUnit, estimatedFlops: Double, estimatedSeconds: Double) {
                self.unit = unit
                self.estimatedFlops = estimatedFlops
                self.estimatedSeconds = estimatedSeconds
            }
            enum CodingKeys: String, CodingKey { case estimatedFlops = "estimated_flops", estimatedSeconds = "estimated_seconds" }
            init(from decoder: Decoder) throws {
                unit = try ExperimentUnit(from: decoder)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                estimatedFlops = try c.decode(Double.self, forKey: .estimatedFlops)
                estimatedSeconds = try c.decode(Double.self, forKey: .estimatedSeconds)
            }
            func encode(to encoder: Encoder) throws {
                try unit.encode(to: encoder)
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(estimatedFlops, forKey: .estimatedFlops)
                try c.encode(estimatedSeconds, forKey: .estimatedSeconds)
            }
        }
        enum CodingKeys: String, CodingKey {
            case format, version, experiment, fingerprint, units
            case hardPrefixRanges = "hard_prefix_ranges", gigaflopsPerSecond = "assumed_gflops_per_second"
        }
    }

    /// The contents of `plan.json`.
    public func planFile() throws -> Data {
        try JSONOutput.encode(File(format: Self.formatName, version: Self.formatVersion, experiment: spec.name, fingerprint: fingerprint,
                                   hardPrefixRanges: hardPrefixRanges, gigaflopsPerSecond: gigaflopsPerSecond,
                                   units: zip(units, estimates).map { .init(unit: $0, estimatedFlops: $1.flops, estimatedSeconds: $1.seconds) }))
    }

    /// Reads the plan of an experiment directory: `plan.json` and
    /// `parts/experiment.json`, checked against each other (the fingerprint,
    /// and the units, which must be the experiment's own decomposition).
    public static func load(directory: URL) throws -> ExperimentPlan {
        let planURL = directory.appendingPathComponent("plan.json")
        guard FileManager.default.fileExists(atPath: planURL.path) else {
            throw ThunniniError("\(directory.path): no plan.json; not an experiment directory written by `thunnini-ref plan` or `run --task`")
        }
        let data: Data
        do { data = try Data(contentsOf: planURL) } catch { throw ThunniniError("\(planURL.path): cannot read the file") }
        let file = try JSONOutput.decode(File.self, from: data, source: planURL.path)
        guard file.format == formatName, file.version == formatVersion else {
            throw ThunniniError("\(planURL.path): format '\(file.format)' version \(file.version); this thunnini-ref reads '\(formatName)' version \(formatVersion)")
        }
        let experimentURL = directory.appendingPathComponent("parts/experiment.json")
        let canonical: Data
        do { canonical = try Data(contentsOf: experimentURL) } catch {
            throw ThunniniError("\(experimentURL.path): cannot read the planned experiment")
        }
        guard SHA256.hex(canonical) == file.fingerprint else {
            throw ThunniniError("\(experimentURL.path): does not match the fingerprint in plan.json (the file was changed)")
        }
        let spec = try ExperimentSpec.decode(from: canonical, source: experimentURL.path)
        let plan = try ExperimentPlan(spec: spec, hardPrefixRanges: file.hardPrefixRanges, gigaflopsPerSecond: file.gigaflopsPerSecond)
        guard plan.fingerprint == file.fingerprint, plan.units == file.units.map(\.unit) else {
            throw ThunniniError("\(planURL.path): its units are not this thunnini-ref's units of the planned experiment; plan it again")
        }
        return plan
    }

    /// Writes `plan.json` and `parts/experiment.json` into `directory`
    /// (created if missing; its parent must exist), each atomically. A
    /// directory that already holds the same plan is left as it is (so tasks
    /// started at once may all call this); one planned for another experiment,
    /// or holding anything but a plan, is refused.
    public func write(to directory: URL) throws {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ThunniniError("\(directory.path): exists and is not a directory") }
            if fileManager.fileExists(atPath: directory.appendingPathComponent("plan.json").path) {
                try checkSame(as: try Self.load(directory: directory), in: directory)
                return
            }
            let entries = (try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? []
            guard entries.allSatisfy({ $0 == "parts" || $0 == "slurm" }) else {
                throw ThunniniError("\(directory.path): exists, is not empty and holds no plan.json; choose another directory")
            }
        } else {
            let parent = directory.deletingLastPathComponent()
            guard fileManager.fileExists(atPath: parent.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ThunniniError("\(directory.path): parent directory \(parent.path) does not exist")
            }
        }
        do {
            try fileManager.createDirectory(at: directory.appendingPathComponent("parts"), withIntermediateDirectories: true)
        } catch {
            throw ThunniniError("\(directory.path): cannot create the directory (\(error.localizedDescription))")
        }
        // The experiment first, so that a plan.json always has its experiment.
        _ = try PartFiles.createExclusively(canonicalExperiment, at: directory.appendingPathComponent("parts/experiment.json"))
        // Its temporary file goes under parts/, so that a process checking the
        // directory at the same time sees nothing but parts/ before plan.json.
        if try !PartFiles.createExclusively(try planFile(), at: directory.appendingPathComponent("plan.json"),
                                            temporaryDirectory: directory.appendingPathComponent("parts")) {
            try checkSame(as: try Self.load(directory: directory), in: directory)
        }
    }

    /// The plan `directory` holds, when it holds one for `spec` (whatever its
    /// units), else this default plan of `spec`, written there: what `run
    /// --task` and `slurm` work from. A directory planned for another
    /// experiment is refused.
    public static func existingOrNew(for spec: ExperimentSpec, in directory: URL) throws -> ExperimentPlan {
        let plan = try ExperimentPlan(spec: spec)
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("plan.json").path) else {
            try plan.write(to: directory)
            return plan
        }
        let existing = try load(directory: directory)
        try plan.checkSameExperiment(as: existing, in: directory)
        return existing
    }

    /// Throws unless `other` (read from `directory`) plans the same experiment into the same units.
    func checkSame(as other: ExperimentPlan, in directory: URL) throws {
        try checkSameExperiment(as: other, in: directory)
        guard other.units == units else {
            throw ThunniniError("\(directory.path): planned with other units (--hard-prefix-ranges \(other.hardPrefixRanges.map(String.init) ?? "default")); "
                + "run with the directory's plan or use another directory")
        }
    }

    /// Throws unless `other` (read from `directory`) plans the same experiment.
    func checkSameExperiment(as other: ExperimentPlan, in directory: URL) throws {
        guard other.fingerprint == fingerprint else {
            throw ThunniniError("\(directory.path): planned for another experiment ('\(other.spec.name)', fingerprint "
                + "\(other.fingerprint.prefix(12)), this file's \(fingerprint.prefix(12))); use another directory")
        }
    }
}

/// The estimated floating-point operations of each kind of unit, from
/// `Benchmark.forwardFlops` (a training step counts three forward passes).
enum UnitCost {
    static func flops(of unit: ExperimentUnit, in spec: ExperimentSpec) -> Double {
        let setting = Benchmark.Setting(predictor: spec.predictorConfig, torso: spec.torsoConfig)
        func forward(_ batch: Int, _ length: Int, _ prefix: Int) -> Double {
            Benchmark.forwardFlops(setting, batch: batch, length: length, prefixLength: prefix)
        }
        func evaluation(prefix: Int) -> Double {
            spec.evalDataConfigs.reduce(0) { $0 + forward($1.config.batchSize, $1.config.sequenceLength, prefix) }
        }
        let tuning = spec.tuningDataConfig
        switch unit.kind {
        case .pretrain:
            guard let pretraining = spec.pretraining else { return 0 }
            return Double(pretraining.trainingConfig.numTrainingSteps) * 3
                * forward(pretraining.dataConfig.batchSize, pretraining.dataConfig.sequenceLength, 0)
        case .tune(let name, _):
            guard let config = spec.tuningConfigs.first(where: { $0.name == name })?.config else { return 0 }
            let k = config.tuningMethod.isPrefixMethod ? (config.prefixLength ?? 0) : 0
            return Double(config.numTuningSteps + 1) * 3 * forward(tuning.batchSize, tuning.sequenceLength, k) + evaluation(prefix: k)
        case .hardPrefixCandidates(let range):
            let hard = spec.hardPrefix!
            return Double(range.count) * forward(hard.numSequences, tuning.sequenceLength, hard.prefixLength)
        case .hardPrefix(let split):
            let hard = spec.hardPrefix!
            let count = (try? HardPrefixSearch.candidates(vocabSize: spec.predictorConfig.tokenDimensionality, length: hard.prefixLength).count) ?? 0
            let search = split ? 0 : Double(count) * forward(hard.numSequences, tuning.sequenceLength, hard.prefixLength)
            return search + evaluation(prefix: hard.prefixLength)
        case .baseline(let baseline, _):
            switch baseline {
            case .noTuning, .untrained: return evaluation(prefix: 0)
            case .randomPF:
                let real = spec.tuningConfigs.first { $0.config.tuningMethod == .prefixReal }?.config
                return evaluation(prefix: real?.prefixLength ?? 0)
            case .targetBayes, .evalBayes, .groundTruth, .preBayes, .preBayesPT: return 0
            }
        case .dynamics:
            return 0
        }
    }
}
