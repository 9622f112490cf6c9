import Foundation

/// Runs units of a planned experiment directory and writes their parts
/// (`thunnini-ref run EXPERIMENT.json --out DIR --task I [--of N]`).
///
/// A unit whose part is already complete is skipped, so running the same
/// command again resumes. Without waiting, a unit whose dependencies have no
/// complete part is refused at once; with a wait timeout, the runner polls the
/// parts of its dependencies (processes started at once, each running every
/// N-th unit, finish correctly because every unit depends only on earlier
/// ones), and stops with one line when a dependency failed or the timeout
/// passes.
public final class UnitRunner {
    public let store: PartStore
    public let runner: ExperimentRunner
    /// Seconds to wait for the parts of dependencies (nil: do not wait).
    public let waitTimeout: Double?
    /// Where lines about units go (stderr by default; nil: nowhere).
    let log: ((String) -> Void)?

    private var sources: [ExperimentRunner.EvaluationSource]?
    private var outputs: [Int: ExperimentUnitOutput] = [:]

    /// `logsUnits`: whether a line goes to stderr when a unit starts, waits, ends or is skipped.
    public convenience init(directory: URL, plan: ExperimentPlan, reportsProgress: Bool, logsUnits: Bool, waitTimeout: Double?) throws {
        try self.init(directory: directory, plan: plan, reportsProgress: reportsProgress, waitTimeout: waitTimeout,
                      log: logsUnits ? { ProgressReporter.writeToStandardError($0 + "\n") } : nil)
    }

    init(directory: URL, plan: ExperimentPlan, reportsProgress: Bool, waitTimeout: Double?, log: ((String) -> Void)?) throws {
        store = PartStore(directory: directory, plan: plan)
        runner = try ExperimentRunner(spec: plan.spec, reportsProgress: reportsProgress)
        self.waitTimeout = waitTimeout
        self.log = log
    }

    /// The units `--task index --of count` runs: every unit whose plan index is `index` mod `count`.
    public static func units(task index: Int, of count: Int, in plan: ExperimentPlan) throws -> [ExperimentUnit] {
        guard count >= 1 else { throw ThunniniError("--of must be at least 1, got \(count)") }
        guard (0..<count).contains(index) else {
            throw ThunniniError("--task \(index) is out of range: with --of \(count) it must be 0 to \(count - 1)")
        }
        return plan.units.filter { $0.index % count == index }
    }

    /// The unit with plan index `index`.
    public static func unit(task index: Int, in plan: ExperimentPlan) throws -> ExperimentUnit {
        guard plan.units.indices.contains(index) else {
            throw ThunniniError("--task \(index) is out of range: the plan of '\(plan.spec.name)' has units 0 to \(plan.units.count - 1)")
        }
        return plan.units[index]
    }

    /// Runs `units` in the given order (see the type's doc).
    public func run(_ units: [ExperimentUnit]) throws {
        for unit in units { try run(unit) }
    }

    /// Runs one unit unless its part is complete.
    public func run(_ unit: ExperimentUnit) throws {
        let plan = store.plan
        if store.status(of: unit) == .complete {
            log?("unit \(unit.index) '\(unit.name)': part complete, skipped")
            return
        }
        store.clearFailure(unit)
        do {
            for dependency in unit.dependencies {
                try awaitPart(of: plan.units[dependency], by: "unit \(unit.index) '\(unit.name)'", timeout: waitTimeout)
            }
            // Start-up: the evaluation sources and the dependencies' parts (read once per process).
            let start = ProgressReporter.monotonicSeconds()
            _ = try evaluationSources()
            for dependency in unit.dependencies { _ = try output(of: dependency) }
            let loaded = ProgressReporter.monotonicSeconds()
            log?("unit \(unit.index) '\(unit.name)': started (inputs ready in \(String(format: "%.2f", loaded - start))s)")
            let output = try compute(unit)
            try store.write(output, of: unit)
            outputs[unit.index] = output
            log?("unit \(unit.index) '\(unit.name)': done in \(String(format: "%.1f", ProgressReporter.monotonicSeconds() - start))s")
        } catch let error as ThunniniError {
            store.markFailed(unit, message: error.message)
            throw error
        }
    }

    /// What `unit` computes, from its dependencies' parts (read once per process).
    public func compute(_ unit: ExperimentUnit) throws -> ExperimentUnitOutput {
        try runner.execute(unit, sources: try evaluationSources()) { index in try self.output(of: index) }
    }

    /// The evaluation sources, drawn once per process.
    func evaluationSources() throws -> [ExperimentRunner.EvaluationSource] {
        if let sources { return sources }
        let drawn = try runner.evaluationSources()
        sources = drawn
        return drawn
    }

    func output(of index: Int) throws -> ExperimentUnitOutput {
        if let output = outputs[index] { return output }
        let output = try store.read(store.plan.units[index])
        outputs[index] = output
        return output
    }

    /// Waits for every unit's part (`run --merge`), as `awaitPart` does.
    public func awaitAllParts(timeout: Double) throws {
        for unit in store.plan.units { try awaitPart(of: unit, by: "the merge", timeout: timeout) }
    }

    /// Returns once `dependency` has a complete part; throws at once without
    /// a timeout, or when it failed, is corrupt, or the timeout passes.
    /// `waiter` names who waits, in messages.
    func awaitPart(of dependency: ExperimentUnit, by waiter: String, timeout: Double?) throws {
        let deadline = timeout.map { ProgressReporter.monotonicSeconds() + $0 }
        let what = "unit \(dependency.index) '\(dependency.name)'"
        var pause = 0.05
        var announced = false
        while true {
            switch store.status(of: dependency) {
            case .complete:
                return
            case .failed(let message):
                throw ThunniniError("\(waiter) depends on \(what), which failed: \(message)")
            case .corrupt(let reason):
                throw ThunniniError("\(waiter) depends on \(what), whose part is corrupt (\(reason)); run that unit again")
            case .missing:
                guard let deadline else {
                    throw ThunniniError("\(waiter) depends on \(what), which has no complete part; run it first (or use --of to wait for it)")
                }
                guard ProgressReporter.monotonicSeconds() < deadline else {
                    throw ThunniniError("\(waiter): gave up after --wait-timeout \(Self.seconds(timeout!)) waiting for \(what)")
                }
                if !announced {
                    log?("\(waiter): waiting for \(what)")
                    announced = true
                }
                usleep(UInt32(pause * 1e6))
                pause = min(pause * 2, 1)
            }
        }
    }

    static func seconds(_ value: Double) -> String { value == value.rounded() ? String(format: "%.0fs", value) : String(format: "%gs", value) }
}
