import Foundation
import Testing
@testable import Thunnini

/// Tuning runs side by side (`ExperimentRunner.runTuningJobs`): the same
/// results as one run after another, the same first error, and no more runs
/// at once than the memory budget allows.
@Suite("Tuning runs side by side")
struct TuningLanesTests {
    /// Runs `spec` in this process with `threads` kernel threads and returns
    /// its result files.
    static func resultFiles(_ spec: ExperimentSpec, threads: Int) throws -> [String: Data] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lanes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let results = try Parallel.$threadCountOverride.withValue(threads) {
            try ExperimentRunner(spec: spec, reportsProgress: false).run()
        }
        try results.write(to: directory)
        return try ExperimentRunnerTests.contents(of: directory)
    }

    /// Eight runs (four configs x two repetitions): at 2 threads all eight go
    /// two at a time, at 3 threads six go three at a time and two after them.
    /// Fails if outcomes were added in the order they finish, if a run drew
    /// its initial prefix or data seed from a key another run also advanced,
    /// or if the side-by-side runs shared any state.
    @Test("two or three runs at once give the same result files as one at a time")
    func sameResultsAtAnyLaneCount() throws {
        let spec = smallSpec()
        #expect(ExperimentRunner.tuningLanes(jobs: 8, threads: 2, estimate: spec.memoryEstimate()) == (2, 1))
        let oneAtATime = try Self.resultFiles(spec, threads: 1)
        #expect(!oneAtATime.isEmpty)
        for threads in [2, 3] {
            let sideBySide = try Self.resultFiles(spec, threads: threads)
            #expect(sideBySide.keys.sorted() == oneAtATime.keys.sorted())
            for (path, bytes) in oneAtATime {
                #expect(sideBySide[path] == bytes, "\(threads) threads: \(path) differs")
            }
        }
    }

    /// Both repetitions of RealPT fail at their first update; side by side the
    /// second may fail first. Fails if the error of whichever run failed first
    /// in time were thrown instead of the first in the listed order.
    @Test("a failing run gives the same error line as one at a time")
    func sameFirstError() throws {
        var spec = smallSpec()
        spec.tuningConfigs[0].config.learningRate = 1e300
        func message(threads: Int) -> String? {
            do {
                _ = try Parallel.$threadCountOverride.withValue(threads) {
                    try ExperimentRunner(spec: spec, reportsProgress: false).run()
                }
                return nil
            } catch let error as ThunniniError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        let oneAtATime = message(threads: 1)
        #expect(oneAtATime?.hasPrefix("tuning_configs[RealPT] repetition 1: ") == true, "\(oneAtATime ?? "no error")")
        for _ in 0..<3 { #expect(message(threads: 2) == oneAtATime) }
    }

    /// Fails if the lane count ignored the number of runs or the memory
    /// budget (each extra run at once counted as one more of the largest phase).
    @Test("no more runs at once than there are runs, threads and memory for")
    func laneCount() {
        var estimate = MemoryEstimate()
        estimate.keep("parameters", bytes: 100)
        estimate.phase("pretraining", bytes: 1_000)
        estimate.phase("tuning", bytes: 400)
        #expect(estimate.peakBytes == 1_100)
        #expect(ExperimentRunner.tuningLanes(jobs: 7, threads: 2, estimate: estimate, budget: 10_000) == (2, 1))
        #expect(ExperimentRunner.tuningLanes(jobs: 7, threads: 4, estimate: estimate, budget: 10_000) == (4, 1))
        #expect(ExperimentRunner.tuningLanes(jobs: 2, threads: 4, estimate: estimate, budget: 10_000) == (2, 2))
        #expect(ExperimentRunner.tuningLanes(jobs: 1, threads: 2, estimate: estimate, budget: 10_000) == (1, 2))
        #expect(ExperimentRunner.tuningLanes(jobs: 7, threads: 1, estimate: estimate, budget: 10_000) == (1, 1))
        // Two at once need 1,100 + 1,000 bytes; three 3,100.
        #expect(ExperimentRunner.tuningLanes(jobs: 7, threads: 4, estimate: estimate, budget: 2_099) == (1, 4))
        #expect(ExperimentRunner.tuningLanes(jobs: 7, threads: 4, estimate: estimate, budget: 2_100) == (2, 2))
        #expect(ExperimentRunner.tuningLanes(jobs: 7, threads: 4, estimate: estimate, budget: 3_100) == (3, 1))
    }
}
