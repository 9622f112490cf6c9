import ArgumentParser
import Foundation
import Thunnini

/// `thunnini-ref bench`: times the engine's phases (Docs/performance.md).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time pretraining, tuning and evaluation steps at the demo notebook's settings or an experiment file's.",
        discussion: """
            Each phase runs one untimed warm-up step, then --steps timed steps. Phases at the demo \
            settings (batches of 128 x 50 Random Coins): pretrain (full_parameters), tune_prefix \
            (prefix_soft, K = 6), tune_weights (embedding), evaluate (forward only). With an \
            experiment file: pretrain on its pretraining source, tune_prefix and tune_weights with \
            the first prefix method and the first weight method of its tuning_configs on its tuning \
            source (--tuning NAME: that tuning config for its kind's phase), evaluate on its first \
            evaluation source; a phase the file has nothing for is left out; --phase picks phases. GFLOP/s counts matrix products only (Docs/performance.md).
            """)

    @Argument(help: "An experiment file to take the settings from (default: the demo notebook's).")
    var experiment: String?

    @Option(name: .long, help: "LSTM, Transformer, Linear or all (default: all; not with an experiment file, which names its torso).")
    var torso: String?

    @Option(name: .long, help: "Timed steps per phase.")
    var steps = 10

    @Option(name: .long, help: "Time only this phase (pretrain, tune_prefix, tune_weights or evaluate; repeatable; default: every phase the setting has).")
    var phase: [String] = []

    @Option(name: .long, help: "With an experiment file: the tuning config (by name) whose method tune_prefix or tune_weights (by its kind) times, instead of the first of that kind.")
    var tuning: String?

    @Flag(name: .long, help: "Time the Dense products of a training step one shape at a time (forward, input gradient, kernel gradient) instead of the phases.")
    var products = false

    @Flag(name: .long, help: "Print one JSON object on stdout instead of a table.")
    var json = false

    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup var memoryOptions: MemoryOptions

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            try memoryOptions.apply()
            guard steps >= 1 else { throw ThunniniError("invalid --steps \(steps): must be at least 1") }
            let chosen = try phase.map { name -> Benchmark.Phase in
                guard let known = Benchmark.Phase(rawValue: name) else {
                    let names = Benchmark.Phase.allCases.map(\.rawValue).joined(separator: ", ")
                    throw ThunniniError("unknown --phase '\(name)'; expected one of \(names)")
                }
                return known
            }
            let settings: [Benchmark.Setting]
            if let experiment {
                if let torso {
                    throw ThunniniError("--torso \(torso) cannot be combined with an experiment file: the file names its torso")
                }
                let spec = try ExperimentSpec.load(from: URL(fileURLWithPath: experiment))
                try spec.memoryEstimate().check(source: URL(fileURLWithPath: experiment).path)
                if let tuning {
                    guard let setting = Benchmark.experimentSetting(spec, tuningName: tuning) else {
                        let names = spec.tuningConfigs.map(\.name).joined(separator: ", ")
                        throw ThunniniError("--tuning '\(tuning)' names no tuning config of \(experiment); it has \(names)")
                    }
                    settings = [setting]
                } else {
                    settings = [Benchmark.experimentSetting(spec)]
                }
            } else {
                if let tuning { throw ThunniniError("--tuning \(tuning) needs an experiment file") }
                let name = torso ?? "all"
                settings = try (name == "all" ? Benchmark.torsoNames : [name]).map { try Benchmark.demoSetting(torso: $0) }
            }
            if products {
                try timeProducts(settings)
                return
            }
            var runs: [Benchmark.Run] = []
            if !json {
                print("torso        phase         threads  steps  seconds  s/step    tokens/s   GFLOP/s  cpu s/step")
            }
            for setting in settings {
                for phase in setting.phases where chosen.isEmpty || chosen.contains(phase) {
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

    /// `--products`: each setting's Dense products, `--steps` calls each.
    func timeProducts(_ settings: [Benchmark.Setting]) throws {
        if !phase.isEmpty { throw ThunniniError("--products times products, not phases: drop --phase") }
        var lines: [String] = []
        let peak = Benchmark.measuredPeak()
        if !json {
            print(String(format: "float64 peak on %d thread(s), measured: %.1f GFLOP/s (Docs/performance.md)", Parallel.threadCount, peak))
            print("torso        product          rows  inner  columns  threads  calls  s/call    GFLOP/s  of peak")
        }
        for setting in settings {
            for product in Benchmark.products(setting) {
                let run = try Benchmark.time(product, calls: steps)
                let (rows, inner, columns) = product.shape
                if json {
                    lines.append("{\"torso\": \"\(setting.torso.torsoType)\", \"product\": \"\(product.kind.rawValue)\", "
                                 + "\"rows\": \(rows), \"inner\": \(inner), \"columns\": \(columns), \"threads\": \(run.threads), "
                                 + "\"calls\": \(run.calls), \"seconds_per_call\": \(format(run.secondsPerCall)), "
                                 + "\"gflop_per_s\": \(format(run.gflopPerSecond)), \"of_peak\": \(format(run.gflopPerSecond / peak))}")
                } else {
                    print(pad(setting.torso.torsoType, 12) + " " + pad(product.kind.rawValue, 15)
                          + String(format: " %6d %6d %8d %8d %6d %8.4f %10.2f %7.0f%%", rows, inner, columns, run.threads, run.calls,
                                   run.secondsPerCall, run.gflopPerSecond, 100 * run.gflopPerSecond / peak))
                }
            }
        }
        if json {
            print("{\"peak_gflop_per_s\": \(format(peak)), \"products\": [" + lines.joined(separator: ", ") + "]}")
        }
    }

    func format(_ value: Double) -> String { String(format: "%.6g", value) }

    func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
}
