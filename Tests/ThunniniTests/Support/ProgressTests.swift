import Foundation
import Testing
@testable import Thunnini

/// A clock the test moves by hand, and a sink collecting the lines.
final class ProgressHarness {
    var time = 100.0
    var lines: [String] = []

    func make(phase: String = "pretrain", total: Int, every: ProgressReporter.Cadence) -> ProgressReporter {
        ProgressReporter(phase: phase, total: total, every: every, clock: { self.time }, output: { self.lines.append($0) })
    }
}

@Suite struct ProgressTests {
    @Test func lineFormat() {
        let harness = ProgressHarness()
        let progress = harness.make(total: 1000, every: .steps(200))
        harness.time += 4.1
        progress.update(step: 200, loss: 63.12341)
        #expect(harness.lines == ["[pretrain] step 200/1000 loss 63.1234 elapsed 4.1s rate 48.8 steps/s\n"])
    }

    @Test func stepCadencePrintsEveryNthStepAndTheLast() {
        let harness = ProgressHarness()
        let progress = harness.make(phase: "tune SoftPT rep 1", total: 7, every: .steps(3))
        for step in 1...7 {
            harness.time += 0.5
            progress.update(step: step, loss: Double(step))
        }
        #expect(harness.lines.count == 3)
        #expect(harness.lines[0].hasPrefix("[tune SoftPT rep 1] step 3/7 loss 3.0000 elapsed 1.5s rate 2.0 steps/s"))
        #expect(harness.lines[1].hasPrefix("[tune SoftPT rep 1] step 6/7"))
        #expect(harness.lines[2].hasPrefix("[tune SoftPT rep 1] step 7/7"))
    }

    @Test func timeCadenceThrottles() {
        let harness = ProgressHarness()
        let progress = harness.make(total: 100, every: .seconds(1))
        for step in 1...10 {
            harness.time += 0.3  // a line after at least 1 s: steps 4 (1.2 s) and 8 (2.4 s)
            progress.update(step: step, loss: 1)
        }
        #expect(harness.lines.map { $0.split(separator: " ")[2] } == ["4/100", "8/100"])
    }

    @Test func finishReportsTheLastStepOnceAndASummary() {
        let harness = ProgressHarness()
        let progress = harness.make(total: 10, every: .steps(4))
        for step in 1...5 {
            harness.time += 1
            progress.update(step: step, loss: 2.5)
        }
        progress.finish()
        progress.finish()
        #expect(harness.lines == [
            "[pretrain] step 4/10 loss 2.5000 elapsed 4.0s rate 1.0 steps/s\n",
            "[pretrain] step 5/10 loss 2.5000 elapsed 5.0s rate 1.0 steps/s\n",
            "[pretrain] done 5 steps in 5.0s (1.0 steps/s)\n",
        ])
    }

    @Test func noLossAndNoElapsedTime() {
        let harness = ProgressHarness()
        let progress = harness.make(phase: "hard-prefix", total: 2, every: .steps(1))
        progress.update(step: 1)
        #expect(harness.lines == ["[hard-prefix] step 1/2 elapsed 0.0s rate - steps/s\n"])
    }
}
