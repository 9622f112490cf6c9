import Foundation
import Testing
@testable import Thunnini

/// `thunnini-ref slurm --submit` on a real single-node Slurm cluster
/// (Tests/Slurm/single-node.sh: Debian's slurmctld, slurmd and munge as
/// root, started and stopped by PID). The merged folder must equal the
/// one-process folder byte for byte. CI installs the packages and runs as
/// root; elsewhere the test runs when both hold, and under CI its absence is
/// a failure, not a skip.
@Suite final class SlurmTests {
    static let script = repositoryRoot().appendingPathComponent("Tests/Slurm/single-node.sh").path

    static var available: Bool {
        getuid() == 0 && ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch", "/usr/sbin/munged"]
            .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func ciHasASlurmToTestWith() {
        guard ProcessInfo.processInfo.environment["CI"] == "true" else { return }
        #expect(Self.available, "CI must install slurmctld, slurmd, slurm-client and munge and run as root (.ci/run)")
    }

    /// Runs the cluster script with the C library's `system`, which waits for
    /// the shell alone: the daemons it leaves running keep no descriptor of
    /// ours open (Foundation's `Process` does not notice its child's exit while
    /// such grandchildren live). Its output goes to a file next to the state.
    static func system(_ script: String, _ command: String, _ state: String) -> (status: Int32, output: String) {
        let log = state + "-\(command).log"
        let status = Glibc.system("/bin/bash '\(script)' \(command) '\(state)' </dev/null >'\(log)' 2>&1")
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Runs `arguments` and returns its status and combined output, killing it after `timeout` seconds.
    func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 120) throws
        -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Output into a file: a pipe nobody reads could fill and block the child.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-test-\(getpid())-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    @Test(.enabled(if: SlurmTests.available), .timeLimit(.minutes(5)))
    func anExperimentSubmittedToSlurmMergesToTheOneProcessFolder() throws {
        let scratch = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Slurm's daemons need a state directory every user can traverse.
        chmod(scratch.path, 0o755)
        let state = scratch.appendingPathComponent("slurm-state").path
        let started = Self.system(Self.script, "start", state)
        defer { _ = Self.system(Self.script, "stop", state) }
        try #require(started.status == 0, "\(started.output)")
        let environment = ["SLURM_CONF": state + "/slurm.conf"]

        let lstm = scratch.appendingPathComponent("lstm.json")
        try JSONOutput.encode(ExperimentUnitTests().lstmSpec()).write(to: lstm)
        let binary = CLITests.executable.path
        let one = scratch.appendingPathComponent("one").path, dir = scratch.appendingPathComponent("cluster").path
        #expect(try run(binary, ["run", lstm.path, "--out", one, "--quiet"]).status == 0)
        let submitted = try run(binary, ["slurm", lstm.path, "--out", dir, "--cpus-per-task", "1", "--max-parallel", "2", "--submit"],
                                environment: environment)
        try #require(submitted.status == 0, "\(submitted.output)")
        #expect(submitted.output.contains("depth 0: job ") && submitted.output.contains("merge: job "), "\(submitted.output)")
        let mergeJob = try #require(submitted.output.split(separator: "\n").first { $0.hasPrefix("merge: job ") }?.split(separator: " ").last)

        // Poll the merge job (no accounting, so no sacct) until it leaves the queue.
        var jobState = ""
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            let shown = try run("/usr/bin/scontrol", ["show", "job", String(mergeJob)], environment: environment, timeout: 20)
            jobState = shown.output.components(separatedBy: "JobState=").dropFirst().first?.split(separator: " ").first.map(String.init) ?? "GONE"
            if !["PENDING", "RUNNING", "CONFIGURING", "COMPLETING"].contains(jobState) { break }
            usleep(250_000)
        }
        let log = (try? String(contentsOfFile: dir + "/slurm/logs/merge.out", encoding: .utf8)) ?? "(no merge log)"
        #expect(jobState == "COMPLETED" || jobState == "GONE", "merge job state \(jobState); log: \(log)")
        let expected = try directoryFiles(URL(fileURLWithPath: one))
        #expect(expected.keys.contains("dynamics/dynamics.npz"))
        #expect(try directoryFiles(URL(fileURLWithPath: dir), excludingTopLevel: ["plan.json", "parts", "slurm", "report"]) == expected)
        #expect(FileManager.default.fileExists(atPath: dir + "/report/README.md"), "log: \(log)")
        // Every unit ran as its own array task, with its own log.
        let plan = try ExperimentPlan.load(directory: URL(fileURLWithPath: dir))
        for unit in plan.units {
            #expect(FileManager.default.fileExists(atPath: dir + "/slurm/logs/unit-\(unit.index).out"), "unit \(unit.index)")
        }
    }

    @Test func theScriptsChainOneArrayPerDepthAndMerge() throws {
        let plan = try ExperimentPlan(spec: smallSpec(), hardPrefixRanges: 2)
        let script = SlurmScript(plan: plan, options: .init(partition: "cpu", cpusPerTask: 4, time: "02:00:00", maxParallel: 8),
                                 executable: "/shared/bin/thunnini-ref", experiment: "/shared/x/parts/experiment.json", directory: "/shared/x")
        // Depths: 0 pretrain and the Bayes baselines; 1 tuning, ranges, NoTuning, RandomPF; 2 the winner; 3 dynamics.
        #expect(script.levels.count == 4)
        #expect(script.levels[0].contains(0) && script.levels[2] == [plan.unit(named: "hard-prefix")!.index])
        let submit = script.submitScript
        #expect(submit.components(separatedBy: "sbatch --parsable").count - 1 == 5)
        #expect(submit.contains("--array=\(SlurmScript.arrayList(script.levels[1]))%8"))
        #expect(submit.contains("common=('--cpus-per-task=4' '--partition=cpu' '--time=02:00:00')"))
        #expect(submit.contains(#"dependency=("--dependency=afterok:$(IFS=:; echo "${jobs[*]}")" --kill-on-invalid-dep=yes)"#))
        #expect(script.taskScript.contains(#"--task "$SLURM_ARRAY_TASK_ID" --threads "${SLURM_CPUS_PER_TASK:-1}""#))
        #expect(script.mergeScript.contains("'/shared/bin/thunnini-ref' merge '/shared/x'"))
        #expect(SlurmScript.arrayList([0, 1, 2, 4, 6, 7]) == "0-2,4,6-7")
        #expect(SlurmScript.quoted("it's") == #"'it'\''s'"#)
        for (options, message) in [(SlurmScript.Options(cpusPerTask: 0), "--cpus-per-task must be at least 1"),
                                   (.init(time: "2h"), "--time '2h': expected HH:MM:SS"),
                                   (.init(partition: "a b"), "--partition 'a b'"),
                                   (.init(maxParallel: 0), "--max-parallel must be at least 1")] {
            #expect { try options.validate() } throws: { ($0 as? ThunniniError)?.message.hasPrefix(message) == true }
        }
    }
}
