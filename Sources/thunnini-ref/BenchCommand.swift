import ArgumentParser
import Foundation
import Thunnini

/// `thunnini-ref bench`: times the engine's phases (Docs/performance.md).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time pretraining, tuning and evaluation steps at the demo notebook's settings.",
        discussion: """
            Each phase runs one untimed warm-up step, then --steps timed steps. Phases: pretrain \
            (full_parameters), tune_prefix (prefix_soft, K = 6), tune_weights (embedding), evaluate \
            (forward only). GFLOP/s counts matrix products only (Docs/performance.md).
            """)

    @Option(name: .long, help: "LSTM, Transformer, Linear or all.")
    var torso = "all"

    @Option(name: .long, help: "Timed steps per phase.")
    var steps = 10

    @Flag(name: .long, help: "Print one JSON object on stdout instead of a table.")
    var json = false

    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            let names = torso == "all" ? Benchmark.torsoNames : [torso]
            let settings = try names.map { try Benchmark.demoSetting(torso: $0) }
            guard steps >= 1 else { throw ThunniniError("invalid --steps \(steps): must be at least 1") }
            var runs: [Benchmark.Run] = []
            if !json {
                print("torso        phase         threads  steps  seconds  s/step    tokens/s   GFLOP/s  cpu s/step")
            }
            for setting in settings {
                for phase in Benchmark.Phase.allCases {
                    let run = try Benchmark.run(setting, phase: phase, steps: steps)
                    runs.append(run)
                    if !json {
                        print(pad(run.torso, 12) + " " + pad(run.phase.rawValue, 13)
                              + String(format: " %7d %6d %8.3f %8.4f %10.0f %9.2f %10.4f", run.threads, run.steps, run.seconds,
                                       run.secondsPerStep, run.tokensPerSecond, run.gflopPerSecond,
                                       run.cpuSeconds / Double(run.steps)))
                    }
                }
            }
            if json {
                let objects = runs.map { run -> String in
                    "{\"torso\": \"\(run.torso)\", \"phase\": \"\(run.phase.rawValue)\", \"threads\": \(run.threads), "
                        + "\"steps\": \(run.steps), \"seconds\": \(format(run.seconds)), "
                        + "\"seconds_per_step\": \(format(run.secondsPerStep)), "
                        + "\"tokens_per_s\": \(format(run.tokensPerSecond)), \"gflop_per_s\": \(format(run.gflopPerSecond)), "
                        + "\"cpu_seconds\": \(format(run.cpuSeconds))}"
                }
                print("{\"runs\": [" + objects.joined(separator: ", ") + "]}")
            }
        }
    }

    func format(_ value: Double) -> String { String(format: "%.6g", value) }

    func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
}
