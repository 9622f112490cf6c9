import ArgumentParser
import Foundation
import Thunnini

/// `thunnini-ref run EXPERIMENT.json --out DIR`: the whole tuning experiment.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a tuning experiment file (Docs/experiment.md) and write its results to a directory.",
        discussion: """
            Pretrains, tunes with every configured method and repetition, runs the hard-prefix search \
            and the baselines, and evaluates everything on every evaluation source. Results are written \
            atomically: DIR appears complete or not at all. Progress goes to stderr.

            With --task or --unit, runs units of the experiment (see `plan`) and writes their parts \
            under DIR/parts/ (planning DIR first if it has no plan.json); `merge DIR` then writes the \
            same results folder (Docs/cluster.md).
            """
    )

    @Argument(help: "Experiment file (JSON).")
    var experiment: String

    @Option(name: .long, help: "Output directory (must not exist or be empty, unless --overwrite).")
    var out: String

    @Flag(name: .long, help: "Replace an existing output directory.")
    var overwrite = false

    @Flag(name: .long, help: "Print no progress lines.")
    var quiet = false

    @Option(name: .long, help: "Run the unit with this plan index (with --of N: every unit whose index is this modulo N).")
    var task: Int?

    @Option(name: .long, help: "With --task I: run every N-th unit, waiting for the parts of their dependencies.")
    var of: Int?

    @Option(name: .long, help: "Run the unit with this name (e.g. tune/SoftPT/rep2; `plan` lists them).")
    var unit: String?

    @Option(name: .long, help: "Seconds to wait for a dependency's part before giving up (default: 86400 with --of or --merge, else no waiting).")
    var waitTimeout: Double?

    @Flag(name: .long, help: "After the units (or alone), wait for every part and merge DIR, as `merge DIR` does.")
    var merge = false

    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup var memoryOptions: MemoryOptions

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            try memoryOptions.apply()
            if task != nil || unit != nil || merge || of != nil || waitTimeout != nil {
                try runUnits()
                return
            }
            try prepareOutput(out, overwrite: overwrite)
            let spec = try ExperimentSpec.load(from: URL(fileURLWithPath: experiment))
            try spec.memoryEstimate().check(source: URL(fileURLWithPath: experiment).path)
            let results = try ExperimentRunner(spec: spec, reportsProgress: !quiet).run()
            try results.write(to: URL(fileURLWithPath: out), overwrite: overwrite)
            FileHandle.standardError.write(Data("wrote \(out)\n".utf8))
        }
    }
}

extension RunCommand {
    /// `--task`, `--unit`, `--merge`: units of the experiment into DIR's parts.
    func runUnits() throws {
        guard !out.isEmpty else { throw ThunniniError("--out must not be empty") }
        guard !overwrite else { throw ThunniniError("--overwrite does not apply to --task, --unit or --merge (parts are never replaced)") }
        guard !(task != nil && unit != nil) else { throw ThunniniError("give --task or --unit, not both") }
        guard of == nil || task != nil else { throw ThunniniError("--of N needs --task I") }
        if let waitTimeout, !(waitTimeout.isFinite && waitTimeout >= 0) {
            throw ThunniniError("--wait-timeout must be a number of seconds >= 0, got \(waitTimeout)")
        }
        let directory = URL(fileURLWithPath: out).standardizedFileURL
        let spec = try ExperimentSpec.load(from: URL(fileURLWithPath: experiment))
        try spec.memoryEstimate().check(source: URL(fileURLWithPath: experiment).path)
        let plan = try ExperimentPlan.existingOrNew(for: spec, in: directory)
        InterruptCleanup.install()
        var units: [ExperimentUnit] = []
        if let task {
            units = try of.map { try UnitRunner.units(task: task, of: $0, in: plan) } ?? [UnitRunner.unit(task: task, in: plan)]
        } else if let unit {
            guard let found = plan.unit(named: unit) else {
                throw ThunniniError("no unit named '\(unit)' in the plan of '\(plan.spec.name)'; `thunnini-ref plan` lists them")
            }
            units = [found]
        }
        let timeout = waitTimeout ?? 86400
        let runner = try UnitRunner(directory: directory, plan: plan, reportsProgress: !quiet, logsUnits: !quiet, waitTimeout: of != nil ? timeout : waitTimeout)
        try runner.run(units)
        if merge {
            try runner.awaitAllParts(timeout: timeout)
            try ExperimentMerge.merge(directory: directory)
            FileHandle.standardError.write(Data("merged \(out)\n".utf8))
        }
    }
}

/// Runs `body`, turning a `ThunniniError` into one `error:` line on stderr
/// and a non-zero exit.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ThunniniError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode.failure
    }
}
