import Foundation
import Testing
@testable import Thunnini

/// `plan`, `run --task`, `merge` and `verify` as separate processes of the
/// built executable, the way a cluster runs them: the merged folder equals
/// the one-process folder byte for byte whatever the order, the process
/// count or the threads, and every fault ends in one error line with
/// nothing lost or half-written.
@Suite final class ClusterCLITests {
    let scratch: URL

    init() throws { scratch = try makeTemporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    var executable: String { CLITests.executable.path }

    /// Runs `script` with bash, `$BIN` set to the executable; status and output.
    func shell(_ script: String, environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = scratch
        process.environment = ProcessInfo.processInfo.environment.merging(["BIN": executable]) { $1 }.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func errorLines(_ stderr: String) -> [Substring] { stderr.split(separator: "\n").filter { $0.hasPrefix("error:") } }

    /// Writes an experiment file into the scratch directory.
    func experiment(_ spec: ExperimentSpec, _ name: String) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try JSONOutput.encode(spec).write(to: url)
        return url.path
    }

    var smoke: String { repositoryRoot().appendingPathComponent("Docs/examples/smoke.json").path }

    /// Unit indices of `directory`'s plan shuffled with `seed`, then stably
    /// sorted by dependency depth, so a unit never waits for one queued after it.
    func shuffledOrder(_ directory: URL, seed: UInt64) throws -> [Int] {
        let plan = try ExperimentPlan.load(directory: directory)
        var order = plan.units.map(\.index)
        var generator = LayerTestGenerator(seed: seed)
        order.shuffle(using: &generator)
        return order.sorted { plan.depths[$0] < plan.depths[$1] }
    }

    /// The files of a merged folder that a one-process folder also has.
    func results(_ directory: URL) throws -> [String: Data] {
        try directoryFiles(directory, excludingTopLevel: ["plan.json", "parts", "slurm", "report"])
    }

    @Test(arguments: ["1", "2"])
    func unitsTwoAtATimeInAShuffledOrderMergeToTheOneProcessFolder(_ threads: String) throws {
        let experiments = [("smoke", smoke),
                           ("lstm", try experiment(ExperimentUnitTests().lstmSpec(), "lstm.json")),
                           ("transformer", try experiment(smallSpec(), "transformer.json"))]
        for (name, file) in experiments {
            let one = scratch.appendingPathComponent("\(name)-one-\(threads)"), dir = scratch.appendingPathComponent("\(name)-units-\(threads)")
            var result = try shell("\"$BIN\" run '\(file)' --out '\(one.path)' --threads 2 --quiet")
            #expect(result.status == 0, "\(result.stderr)")
            result = try shell("\"$BIN\" plan '\(file)' --out '\(dir.path)' --hard-prefix-ranges 3")
            #expect(result.status == 0, "\(result.stderr)")
            let order = try shuffledOrder(dir, seed: threads == "1" ? 3 : 4)
            #expect(order != order.sorted())
            // The xargs form of Docs/cluster.md: two processes at a time, each one unit.
            result = try shell("""
                printf '%s\\n' \(order.map(String.init).joined(separator: " ")) | \
                xargs -P 2 -I{} "$BIN" run '\(file)' --out '\(dir.path)' --task {} --wait-timeout 120 --threads \(threads) --quiet
                """)
            #expect(result.status == 0, "\(name): \(result.stderr)")
            result = try shell("\"$BIN\" merge '\(dir.path)'")
            #expect(result.status == 0, "\(name): \(result.stderr)")
            let expected = try results(one)
            #expect(expected.count >= 12)
            #expect(try results(dir) == expected, "\(name) at --threads \(threads)")
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("parts/experiment.json").path))
        }
    }

    /// `--task I --of N`, N processes started at once: the later units wait for
    /// the earlier ones' parts; `--merge` on one of them merges at the end.
    @Test func processesStartedAtOnceWithOfFinishAndMerge() throws {
        let one = scratch.appendingPathComponent("one"), dir = scratch.appendingPathComponent("dir")
        #expect(try shell("\"$BIN\" run '\(smoke)' --out '\(one.path)' --quiet").status == 0)
        let result = try shell("""
            seq 0 2 | xargs -P 3 -I{} "$BIN" run '\(smoke)' --out '\(dir.path)' --task {} --of 3 --threads 1 --quiet --wait-timeout 120 && \
            "$BIN" run '\(smoke)' --out '\(dir.path)' --merge --quiet
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try results(dir) == results(one))
        // Running a task again resumes: every unit's part is complete, nothing is recomputed.
        let again = try shell("\"$BIN\" run '\(smoke)' --out '\(dir.path)' --task 0 --of 1")
        #expect(again.status == 0)
        #expect(again.stderr.components(separatedBy: "part complete, skipped").count - 1 == 16, "\(again.stderr)")
    }

    @Test func planPrintsItsUnitsAsJSON() throws {
        let result = try shell("\"$BIN\" plan '\(smoke)' --out plan-dir --json --gflops 10 --machines 4")
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let units = try #require(object["units"] as? [[String: Any]])
        #expect(units.count == 16)
        #expect(units[1]["name"] as? String == "tune/RealPT/rep1")
        #expect(units[1]["depends_on"] as? [Int] == [0])
        #expect(units.allSatisfy { ($0["estimated_seconds"] as? Double ?? -1) >= ExperimentPlan.startupSeconds })
        let wall = try #require(object["estimated_wall_seconds"] as? [String: Double])
        #expect(wall["1"]! > wall["4"]!)
        // Planning the same file again is harmless; another file into the same directory is not.
        #expect(try shell("\"$BIN\" plan '\(smoke)' --out plan-dir").status == 0)
        let other = try experiment(smallSpec(), "other.json")
        let refused = try shell("\"$BIN\" plan '\(other)' --out plan-dir")
        #expect(refused.status != 0 && errorLines(refused.stderr).count == 1)
        #expect(refused.stderr.contains("planned for another experiment"), "\(refused.stderr)")
    }

    /// A unit killed after writing its files but before the rename leaves no
    /// part merge accepts; running it again completes and clears the debris.
    @Test func aUnitKilledMidWriteLeavesNoPartAndRerunningCompletes() throws {
        let dir = scratch.appendingPathComponent("dir")
        #expect(try shell("\"$BIN\" plan '\(smoke)' --out '\(dir.path)'").status == 0)
        let killed = try shell("""
            "$BIN" run '\(smoke)' --out '\(dir.path)' --task 7 --quiet & pid=$!
            for i in $(seq 200); do ls '\(dir.path)'/parts/.staging-unit-0007-*/part.json >/dev/null 2>&1 && break; sleep 0.05; done
            kill -9 $pid; wait $pid; echo "status $?"
            """, environment: ["THUNNINI_TEST_PAUSE_BEFORE_COMMIT": "30"])
        #expect(killed.stdout.contains("status 137"), "\(killed.stdout) \(killed.stderr)")
        let parts = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("parts").path)
        #expect(parts.contains { $0.hasPrefix(".staging-unit-0007-") } && !parts.contains("unit-0007"), "\(parts)")
        #expect(try shell("for i in $(seq 0 15); do [ $i = 7 ] || \"$BIN\" run '\(smoke)' --out '\(dir.path)' --task $i --quiet || exit 1; done").status == 0)
        let merge = try shell("\"$BIN\" merge '\(dir.path)'")
        #expect(merge.status != 0 && errorLines(merge.stderr).count == 1)
        #expect(merge.stderr.contains("1 of 16 units have no complete part") && merge.stderr.contains("7 'baseline/TargetBayes' (missing)"), "\(merge.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("summary.json").path))
        #expect(try shell("\"$BIN\" run '\(smoke)' --out '\(dir.path)' --task 7 --quiet").status == 0)
        let after = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("parts").path)
        #expect(after.contains("unit-0007") && !after.contains { $0.hasPrefix(".staging") }, "\(after)")
        #expect(try shell("\"$BIN\" merge '\(dir.path)' --clean").status == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("parts").path))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("summary.json").path))
    }

    /// Builds a complete, unmerged directory of smoke.json.
    func completeDirectory(_ name: String, experiment file: String? = nil) throws -> URL {
        let dir = scratch.appendingPathComponent(name)
        let result = try shell("\"$BIN\" run '\(file ?? smoke)' --out '\(dir.path)' --task 0 --of 1 --quiet")
        #expect(result.status == 0, "\(result.stderr)")
        return dir
    }

    func listing(_ directory: URL) throws -> [String: Data] { try directoryFiles(directory) }

    @Test func mergeRefusesTruncatedEditedAndForeignPartsWritingNothing() throws {
        // Truncated: the size no longer matches part.json.
        var dir = try completeDirectory("truncated")
        let arrays = dir.appendingPathComponent("parts/unit-0003/arrays.npz")
        try Data(try Data(contentsOf: arrays).prefix(100)).write(to: arrays)
        var before = try listing(dir)
        var merge = try shell("\"$BIN\" merge '\(dir.path)'")
        #expect(merge.status != 0 && errorLines(merge.stderr).count == 1)
        #expect(merge.stderr.contains("3 'tune/SoftPT/rep1' (corrupt: arrays.npz has 100 bytes"), "\(merge.stderr)")
        #expect(try listing(dir) == before)

        // Edited in place: same size, another byte; only the checksum can tell.
        dir = try completeDirectory("edited")
        let data = dir.appendingPathComponent("parts/unit-0005/data.json")
        var bytes = try Data(contentsOf: data)
        let position = bytes.firstIndex(of: UInt8(ascii: "T"))!
        bytes[position] = UInt8(ascii: "X")
        try bytes.write(to: data)
        before = try listing(dir)
        merge = try shell("\"$BIN\" merge '\(dir.path)'")
        #expect(merge.status != 0 && errorLines(merge.stderr).count == 1)
        #expect(merge.stderr.contains("5 'tune/EmbedWT/rep1' (corrupt: data.json does not match its checksum)"), "\(merge.stderr)")
        #expect(try listing(dir) == before)

        // A part of another experiment (another evaluation seed) copied in.
        dir = try completeDirectory("mixed")
        var other = try ExperimentSpec.load(from: URL(fileURLWithPath: smoke))
        other.evalDatagenSeed += 1
        let foreign = try completeDirectory("foreign", experiment: try experiment(other, "other-seed.json"))
        let target = dir.appendingPathComponent("parts/unit-0010")
        try FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: foreign.appendingPathComponent("parts/unit-0010"), to: target)
        before = try listing(dir)
        merge = try shell("\"$BIN\" merge '\(dir.path)'")
        #expect(merge.status != 0 && errorLines(merge.stderr).count == 1)
        #expect(merge.stderr.contains("10 'baseline/NoTuning' (corrupt: written for another experiment"), "\(merge.stderr)")
        #expect(try listing(dir) == before)
    }

    @Test func badTasksAndDirectoriesEndInOneErrorLine() throws {
        let dir = scratch.appendingPathComponent("dir")
        let cases: [(String, String)] = [
            ("--task 16", "--task 16 is out of range: the plan of 'smoke' has units 0 to 15"),
            ("--task 2 --of 2", "--task 2 is out of range: with --of 2 it must be 0 to 1"),
            ("--task 1 --of 0", "--of must be at least 1, got 0"),
            ("--unit tune/Nope/rep1", "no unit named 'tune/Nope/rep1'"),
            ("--of 2", "--of N needs --task I"),
            ("--task 1 --unit pretrain", "give --task or --unit, not both"),
            ("--task 1", "unit 1 'tune/RealPT/rep1' depends on unit 0 'pretrain', which has no complete part; run it first"),
            ("--merge", "the merge: gave up after --wait-timeout 0s waiting for unit 0 'pretrain'"),
        ]
        for (arguments, message) in cases {
            let extra = arguments == "--merge" ? " --wait-timeout 0" : ""
            let result = try shell("\"$BIN\" run '\(smoke)' --out '\(dir.path)' \(arguments)\(extra) --quiet")
            #expect(result.status != 0 && errorLines(result.stderr).count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        // The directory is planned for smoke.json; another experiment is refused before computing.
        let other = try experiment(smallSpec(), "other.json")
        let foreign = try shell("\"$BIN\" run '\(other)' --out '\(dir.path)' --task 0 --quiet")
        #expect(foreign.status != 0 && errorLines(foreign.stderr).count == 1)
        #expect(foreign.stderr.contains("planned for another experiment ('smoke'"), "\(foreign.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("parts/unit-0000").path))
        // merge before any part, and merge of a directory without a plan.
        let early = try shell("\"$BIN\" merge '\(dir.path)'")
        #expect(early.stderr.contains("16 of 16 units have no complete part") && errorLines(early.stderr).count == 1, "\(early.stderr)")
        let noPlan = try shell("mkdir -p empty && \"$BIN\" merge empty")
        #expect(noPlan.stderr.contains("no plan.json") && errorLines(noPlan.stderr).count == 1, "\(noPlan.stderr)")
    }

    /// A failed unit marks itself failed; processes waiting for it stop at
    /// once with one line instead of waiting out the timeout.
    @Test func aFailedDependencyStopsTheWaitingUnits() throws {
        var spec = try ExperimentSpec.load(from: URL(fileURLWithPath: smoke))
        spec.pretraining!.trainingConfig.learningRate = 1e300  // diverges: a non-finite loss at step 2
        let file = try experiment(spec, "diverges.json")
        let dir = scratch.appendingPathComponent("dir")
        let start = Date()
        let result = try shell("seq 0 1 | xargs -P 2 -I{} \"$BIN\" run '\(file)' --out '\(dir.path)' --task {} --of 2 --quiet --wait-timeout 600")
        #expect(Date().timeIntervalSince(start) < 60)
        let lines = errorLines(result.stderr)
        #expect(result.status != 0 && lines.count == 2, "\(result.stderr)")
        #expect(lines.contains { $0.hasPrefix("error: pretraining (full_parameters), step 2: non-finite loss") }, "\(result.stderr)")
        #expect(lines.contains { $0.contains("depends on unit 0 'pretrain', which failed: pretraining") }, "\(result.stderr)")
    }

    /// `verify` re-runs units and compares bytes: it passes on an honest
    /// directory and names a unit whose part was replaced by a consistent
    /// forgery (checksums recomputed, so merge alone cannot tell).
    @Test func verifyReproducesHonestPartsAndCatchesAForgedOne() throws {
        let dir = try completeDirectory("dir")
        #expect(try shell("\"$BIN\" merge '\(dir.path)'").status == 0)
        let honest = try shell("\"$BIN\" verify '\(dir.path)' --units 4 --seed 1")
        #expect(honest.status == 0, "\(honest.stderr)")
        #expect(honest.stdout.components(separatedBy: "': reproduced").count - 1 == 4, "\(honest.stdout)")

        let plan = try ExperimentPlan.load(directory: dir)
        let store = PartStore(directory: dir, plan: plan)
        let unit = plan.units[3]
        var output = try store.read(unit)
        output.evaluations[0].losses.storage[0] += 1e-9
        try FileManager.default.removeItem(at: store.partURL(unit))
        try store.write(output, of: unit)
        #expect(store.status(of: unit) == .complete)
        let forged = try shell("\"$BIN\" verify '\(dir.path)' --units 16")
        #expect(forged.status != 0 && errorLines(forged.stderr).count == 1)
        #expect(forged.stdout.contains("unit 3 'tune/SoftPT/rep1': DIFFERS in arrays.npz, part.json"), "\(forged.stdout)")
        #expect(forged.stderr.contains("1 of 16 re-run units do not reproduce their parts: 3 'tune/SoftPT/rep1'"), "\(forged.stderr)")
        // The seeded choice: the same seed picks the same units, another seed others.
        #expect(ExperimentMerge.sample(plan, count: 4, seed: 1).map(\.index) == ExperimentMerge.sample(plan, count: 4, seed: 1).map(\.index))
        #expect(ExperimentMerge.sample(plan, count: 4, seed: 1).map(\.index) != ExperimentMerge.sample(plan, count: 4, seed: 2).map(\.index))
    }

    /// Two processes running the same unit at once leave one complete part and no debris.
    @Test func twoProcessesOnOneUnitLeaveOnePart() throws {
        let dir = scratch.appendingPathComponent("dir")
        #expect(try shell("\"$BIN\" plan '\(smoke)' --out '\(dir.path)'").status == 0)
        let result = try shell("""
            "$BIN" run '\(smoke)' --out '\(dir.path)' --task 0 --quiet & a=$!
            "$BIN" run '\(smoke)' --out '\(dir.path)' --task 0 --quiet & b=$!
            wait $a && wait $b
            """, environment: ["THUNNINI_TEST_PAUSE_BEFORE_COMMIT": "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let parts = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("parts").path).sorted()
        #expect(parts == ["experiment.json", "unit-0000"], "\(parts)")
        #expect(PartStore(directory: dir, plan: try ExperimentPlan.load(directory: dir)).status(of: try ExperimentPlan.load(directory: dir).units[0]) == .complete)
    }
}
