import ArgumentParser
import Foundation
import Thunnini

/// What `plan`, `run --task`, `merge`, `verify` and `slurm` share.
enum ClusterCommands {
    /// `seconds` for people: 42 s, 12.5 min, 3.2 h.
    static func duration(_ seconds: Double) -> String {
        if seconds < 120 { return String(format: "%.0f s", seconds) }
        if seconds < 7200 { return String(format: "%.1f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }
}

/// `thunnini-ref plan EXPERIMENT.json --out DIR`: the units of an experiment.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Split an experiment into units that run separately (on a cluster) and write DIR/plan.json.",
        discussion: """
            Writes DIR/plan.json (the units, their dependencies and estimated costs) and \
            DIR/parts/experiment.json (the experiment's canonical copy, whose SHA-256 is the fingerprint \
            every part records), then prints a summary with the estimated wall time on one and on \
            --machines machines. Run the units with `run EXPERIMENT.json --out DIR --task I`, merge with \
            `merge DIR` (Docs/cluster.md).
            """
    )

    @Argument(help: "Experiment file (JSON).")
    var experiment: String

    @Option(name: .long, help: "Experiment directory (created if missing; may already hold the same plan).")
    var out: String

    @Option(name: .long, help: "Split the hard-prefix search into this many candidate ranges (default: about one tuning repetition's cost each).")
    var hardPrefixRanges: Int?

    @Option(name: .long, help: "Floating-point rate of one machine, in GFLOP/s, for the estimates.")
    var gflops: Double = ExperimentPlan.defaultGigaflopsPerSecond

    @Option(name: .long, help: "Machines for the second wall-time estimate.")
    var machines: Int = 100

    @Flag(name: .long, help: "Print one JSON object instead of the table.")
    var json = false

    func run() throws {
        try reportingErrors {
            guard !out.isEmpty else { throw ThunniniError("--out must not be empty") }
            guard machines >= 1 else { throw ThunniniError("--machines must be at least 1, got \(machines)") }
            let spec = try ExperimentSpec.load(from: URL(fileURLWithPath: experiment))
            let plan = try ExperimentPlan(spec: spec, hardPrefixRanges: hardPrefixRanges, gigaflopsPerSecond: gflops)
            try plan.write(to: URL(fileURLWithPath: out).standardizedFileURL)
            if json {
                try printJSON(plan)
            } else {
                printTable(plan)
            }
        }
    }

    struct Summary: Encodable {
        struct Unit: Encodable {
            var index: Int
            var name: String
            var dependsOn: [Int]
            var estimatedFlops: Double
            var estimatedSeconds: Double
            enum CodingKeys: String, CodingKey {
                case index, name, dependsOn = "depends_on", estimatedFlops = "estimated_flops", estimatedSeconds = "estimated_seconds"
            }
        }
        var experiment: String
        var fingerprint: String
        var assumedGflopsPerSecond: Double
        var units: [Unit]
        var wallSeconds: [String: Double]
        enum CodingKeys: String, CodingKey {
            case experiment, fingerprint, units, assumedGflopsPerSecond = "assumed_gflops_per_second"
            case wallSeconds = "estimated_wall_seconds"
        }
    }

    func printJSON(_ plan: ExperimentPlan) throws {
        let summary = Summary(
            experiment: plan.spec.name, fingerprint: plan.fingerprint, assumedGflopsPerSecond: plan.gigaflopsPerSecond,
            units: zip(plan.units, plan.estimates).map {
                .init(index: $0.index, name: $0.name, dependsOn: $0.dependencies, estimatedFlops: $1.flops, estimatedSeconds: $1.seconds)
            },
            wallSeconds: ["1": plan.estimatedWallSeconds(machines: 1), "\(machines)": plan.estimatedWallSeconds(machines: machines)])
        FileHandle.standardOutput.write(try JSONOutput.encode(summary))
    }

    func printTable(_ plan: ExperimentPlan) {
        var lines = ["experiment '\(plan.spec.name)', fingerprint \(plan.fingerprint.prefix(12)), \(plan.units.count) units "
            + "(estimates at \(String(format: "%g", plan.gigaflopsPerSecond)) GFLOP/s per machine):",
            pad("index", 5, right: true) + "  " + pad("unit", 40) + " " + pad("depends on", 16) + " " + pad("estimate", 10, right: true)]
        for (unit, estimate) in zip(plan.units, plan.estimates) {
            let dependencies = unit.dependencies.isEmpty ? "-" : SlurmScript.arrayList(unit.dependencies)
            lines.append(pad("\(unit.index)", 5, right: true) + "  " + pad(unit.name, 40) + " " + pad(dependencies, 16) + " "
                + pad(ClusterCommands.duration(estimate.seconds), 10, right: true))
        }
        let total = plan.estimates.reduce(0) { $0 + $1.seconds }
        lines.append("estimated wall time: \(ClusterCommands.duration(plan.estimatedWallSeconds(machines: 1))) on 1 machine, "
            + "\(ClusterCommands.duration(plan.estimatedWallSeconds(machines: machines))) on \(machines) (\(ClusterCommands.duration(total)) of work)")
        lines.append("wrote \(out)/plan.json; run units with: thunnini-ref run \(experiment) --out \(out) --task I (I = 0...\(plan.units.count - 1))")
        print(lines.joined(separator: "\n"))
    }
}

/// `text` padded with spaces to `width` characters (on the left with `right`).
func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}

/// `thunnini-ref merge DIR`: the results folder from the parts.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the parts of a planned experiment directory into its results folder (as `run` writes it).",
        discussion: """
            Checks that every part is present, complete and of the plan's experiment, then writes the \
            results into DIR atomically, byte for byte what a one-process `run` writes. plan.json and \
            parts/ stay for `verify` unless --clean. A missing or corrupt part: one error line naming the \
            units to run again, and nothing written.
            """
    )

    @Argument(help: "Experiment directory (written by `plan` or `run --task`).")
    var directory: String

    @Flag(name: .long, help: "Leave out plan.json and parts/ from the merged folder.")
    var clean = false

    func run() throws {
        try reportingErrors {
            InterruptCleanup.install()
            try ExperimentMerge.merge(directory: URL(fileURLWithPath: directory).standardizedFileURL, clean: clean)
            FileHandle.standardError.write(Data("merged \(directory)\n".utf8))
        }
    }
}

/// `thunnini-ref verify DIR`: re-run a random sample of units and compare.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-run randomly chosen units of an experiment directory and check they reproduce their parts byte for byte.",
        discussion: """
            Draws --units units without replacement with a seeded random stream, re-runs each from its \
            dependencies' parts and compares every file of its part. Exit status 0 only when all \
            reproduce: how a third party audits a cluster run without redoing it.
            """
    )

    @Argument(help: "Experiment directory with plan.json and parts/.")
    var directory: String

    @Option(name: .long, help: "How many units to re-run.")
    var units: Int = 3

    @Option(name: .long, help: "Seed of the random choice.")
    var seed: Int = 0

    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            guard units >= 1 else { throw ThunniniError("--units must be at least 1, got \(units)") }
            guard seed >= 0 else { throw ThunniniError("--seed must be >= 0, got \(seed)") }
            let url = URL(fileURLWithPath: directory).standardizedFileURL
            let plan = try ExperimentPlan.load(directory: url)
            let chosen = ExperimentMerge.sample(plan, count: units, seed: UInt64(seed))
            let verdicts = try ExperimentMerge.verify(directory: url, units: chosen, plan: plan) { verdict in
                let state = verdict.reproduced ? "reproduced" : "DIFFERS in \(verdict.differingFiles.joined(separator: ", "))"
                print("unit \(verdict.unit.index) '\(verdict.unit.name)': \(state) (\(String(format: "%.1f", verdict.seconds)) s)")
            }
            let failed = verdicts.filter { !$0.reproduced }
            guard failed.isEmpty else {
                throw ThunniniError("\(failed.count) of \(verdicts.count) re-run units do not reproduce their parts: "
                    + failed.map { "\($0.unit.index) '\($0.unit.name)'" }.joined(separator: ", "))
            }
            print("all \(verdicts.count) re-run units reproduce their parts byte for byte")
        }
    }
}

/// `thunnini-ref slurm EXPERIMENT.json --out DIR`: Slurm job scripts.
struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Plan an experiment and write Slurm job scripts that run its units as array jobs, then merge.",
        discussion: """
            Writes DIR/plan.json and DIR/slurm/submit.sh, task.sh and merge.sh: one array job per \
            dependency depth of the units (the first holds the pretraining), each after the previous \
            (--dependency=afterok), then a job that merges and writes the report to DIR/report. \
            The thunnini-ref executable and DIR must be on a file system that every node mounts at \
            the same path. With --submit, runs submit.sh (sbatch) and prints the job ids.
            """
    )

    @Argument(help: "Experiment file (JSON).")
    var experiment: String

    @Option(name: .long, help: "Experiment directory, on a shared file system.")
    var out: String

    @Option(name: .long, help: "Slurm partition.")
    var partition: String?

    @Option(name: .long, help: "CPUs per task (each task runs with this many threads).")
    var cpusPerTask: Int = 2

    @Option(name: .long, help: "Time limit of each job, HH:MM:SS or D-HH:MM:SS.")
    var time: String?

    @Option(name: .long, help: "At most this many array tasks at once.")
    var maxParallel: Int?

    @Flag(name: .long, help: "Do not write the report after merging.")
    var noReport = false

    @Flag(name: .long, help: "Submit the jobs with sbatch.")
    var submit = false

    func run() throws {
        try reportingErrors {
            guard !out.isEmpty else { throw ThunniniError("--out must not be empty") }
            let options = SlurmScript.Options(partition: partition, cpusPerTask: cpusPerTask, time: time,
                                              maxParallel: maxParallel, report: !noReport)
            try options.validate()
            let directory = URL(fileURLWithPath: out).standardizedFileURL
            let spec = try ExperimentSpec.load(from: URL(fileURLWithPath: experiment))
            try spec.memoryEstimate().check(source: URL(fileURLWithPath: experiment).path)
            let plan = try ExperimentPlan.existingOrNew(for: spec, in: directory)
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            let script = SlurmScript(plan: plan, options: options, executable: executable,
                                     experiment: directory.appendingPathComponent("parts/experiment.json").path, directory: directory.path)
            try script.write()
            let submitPath = directory.appendingPathComponent("slurm/submit.sh").path
            print("wrote \(submitPath): \(script.levels.count) array job(s) over \(plan.units.count) units, then the merge")
            print("note: \(executable) and \(directory.path) must be on a file system every node mounts at the same path")
            guard submit else {
                print("submit with: bash \(submitPath)")
                return
            }
            fflush(stdout)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [submitPath]
            do { try process.run() } catch { throw ThunniniError("cannot run \(submitPath) (\(error.localizedDescription))") }
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ThunniniError("\(submitPath) failed with status \(process.terminationStatus) (is sbatch on the PATH and the cluster up?)")
            }
            print("follow with: squeue --name=thunnini-merge,\((0..<script.levels.count).map { "thunnini-depth\($0)" }.joined(separator: ",")); "
                + "logs in \(directory.path)/slurm/logs/; results in \(directory.path) after the merge job")
        }
    }
}
