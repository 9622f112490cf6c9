import Foundation

/// Merging the parts of an experiment directory into its results folder
/// (`thunnini-ref merge DIR`), and auditing a merged folder (`verify`).
public enum ExperimentMerge {
    /// Checks every part (present, complete, of the plan's fingerprint, each
    /// file matching its checksum), then writes the results folder into
    /// `directory` exactly as a one-process `run` writes it.
    ///
    /// Atomic: the results and every entry already in `directory` (the plan,
    /// the parts, Slurm's files; without them with `clean`) are staged next
    /// to it, the parts by hard link, and the staged folder replaces
    /// `directory` in one rename. A missing or corrupt part is one error line
    /// naming every unit to run again, and nothing is written.
    public static func merge(directory: URL, clean: Bool = false) throws {
        let plan = try ExperimentPlan.load(directory: directory)
        let store = PartStore(directory: directory, plan: plan)
        let runner = try ExperimentRunner(spec: plan.spec, reportsProgress: false)
        // Each part is checked and read once; a unit whose part cannot be
        // read is listed (and adds nothing), so that one line names them all.
        var problems: [String] = []
        let results = try runner.assemble(units: plan.units, sources: try runner.evaluationSources()) { index in
            let unit = plan.units[index]
            do {
                return try store.read(unit)
            } catch let error as ThunniniError {
                switch store.status(of: unit) {
                case .missing: problems.append("\(unit.index) '\(unit.name)' (missing)")
                case .failed(let message): problems.append("\(unit.index) '\(unit.name)' (failed: \(message))")
                case .corrupt(let reason): problems.append("\(unit.index) '\(unit.name)' (corrupt: \(reason))")
                case .complete: problems.append("\(unit.index) '\(unit.name)' (unreadable: \(error.message))")
                }
                return ExperimentUnitOutput()
            }
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(10).joined(separator: ", ") + (problems.count > 10 ? ", and \(problems.count - 10) more" : "")
            throw ThunniniError("\(directory.path): \(problems.count) of \(plan.units.count) units have no complete part; run them (again): \(shown)")
        }

        let out = try AtomicOutputDirectory(destination: directory, overwrite: true)
        try results.write(into: out)
        let written = Set(try FileManager.default.contentsOfDirectory(atPath: out.staging.path))
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where !written.contains(name) {
            if clean && (name == "plan.json" || name == "parts") { continue }
            try linkTree(directory.appendingPathComponent(name), to: out.staging.appendingPathComponent(name))
        }
        try out.commit()
    }

    /// Recreates the tree at `source` under `target`, files as hard links
    /// (copies where the file system has none).
    static func linkTree(_ source: URL, to target: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory) else { return }
        do {
            if isDirectory.boolValue {
                try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
                for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
                    try linkTree(source.appendingPathComponent(name), to: target.appendingPathComponent(name))
                }
            } else if link(source.path, target.path) != 0 {
                try FileManager.default.copyItem(at: source, to: target)
            }
        } catch let error as ThunniniError {
            throw error
        } catch {
            throw ThunniniError("\(target.path): cannot carry \(source.lastPathComponent) over into the merged folder (\(error.localizedDescription))")
        }
    }

    /// One audited unit.
    public struct Verdict: Sendable {
        public var unit: ExperimentUnit
        /// Names of the part's files whose bytes differ from the re-run's (empty: reproduced).
        public var differingFiles: [String]
        public var seconds: Double
        public var reproduced: Bool { differingFiles.isEmpty }
    }

    /// The `count` units (all, if fewer) that `verify` re-runs: drawn without
    /// replacement by sorting the units by uniform numbers from
    /// `RandomKey(seed)`, then taken in plan order.
    public static func sample(_ plan: ExperimentPlan, count: Int, seed: UInt64) -> [ExperimentUnit] {
        let draws = Tensor.uniform(shape: [plan.units.count], key: RandomKey(seed: seed)).storage
        let chosen = plan.units.indices.sorted { (draws[$0], $0) < (draws[$1], $1) }.prefix(max(0, count))
        return chosen.sorted().map { plan.units[$0] }
    }

    /// Re-runs `units` of a directory's plan from their dependencies' parts
    /// and compares the encoded outputs with the stored parts byte for byte.
    public static func verify(directory: URL, units: [ExperimentUnit], plan: ExperimentPlan,
                              onVerdict: (Verdict) -> Void = { _ in }) throws -> [Verdict] {
        let unitRunner = try UnitRunner(directory: directory, plan: plan, reportsProgress: false, waitTimeout: nil, log: nil)
        let store = unitRunner.store
        var verdicts: [Verdict] = []
        for unit in units {
            let stored = try store.files(of: unit)
            let start = ProgressReporter.monotonicSeconds()
            let rerun = try store.encode(try unitRunner.compute(unit), of: unit)
            let differing = rerun.keys.sorted().filter { rerun[$0] != stored[$0] }
            let verdict = Verdict(unit: unit, differingFiles: differing, seconds: ProgressReporter.monotonicSeconds() - start)
            onVerdict(verdict)
            verdicts.append(verdict)
        }
        return verdicts
    }
}
