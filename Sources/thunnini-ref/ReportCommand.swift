import ArgumentParser
import Foundation
import Thunnini
import ThunniniReport

/// `thunnini-ref report [EXPERIMENT.json ... | RESULTS_DIR ...]`: the static
/// markdown + SVG report (Docs/report.md).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a markdown + SVG report of tuning experiments (runs them, or renders existing results folders).",
        discussion: """
            Each INPUT is an experiment file (run as `run` does; its results folder is kept under \
            DIR/results/) or a results folder written by `run` (rendered only). Without inputs, runs \
            the four embedded default experiments (an LSTM tuned to a single coin and to a two-coin \
            mixture, a Transformer with LoRA tuned to the mixture, an untrained LSTM with prefixes). \
            The report appears complete or not at all; progress goes to stderr. \
            With --compare A B, compares two results folders of the same experiment instead \
            (DIR/README.md; the verdict line on stdout).
            """
    )

    @Argument(help: "Experiment files (JSON) or results folders; none: the embedded default.")
    var inputs: [String] = []

    @Option(name: .long, help: "Output directory (must not exist or be empty, unless --overwrite).")
    var out: String = "thunnini-report"

    @Flag(name: .long, help: "Replace an existing output directory.")
    var overwrite = false

    @Flag(name: .long, help: "Print no progress lines.")
    var quiet = false

    @Option(name: .long, help: "Add K (>= 0) to every seed of every experiment run (the robustness check of Docs/report.md).")
    var seedOffset: Int = 0

    @Flag(name: .long, help: "Compare two results folders (the two inputs) number by number instead of rendering a report.")
    var compare = false

    @OptionGroup var threadOptions: ThreadOptions

    /// An input, decided before anything is computed.
    enum Input {
        case experiment(ExperimentSpec, name: String)
        case results(ResultsFolder)
    }

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            guard seedOffset >= 0 else { throw ThunniniError("--seed-offset must be >= 0, got \(seedOffset)") }
            // Everything that can be refused is checked before computing: the
            // output path, then every input.
            let output = try AtomicOutputDirectory(destination: URL(fileURLWithPath: out), overwrite: overwrite)
            if compare { return try runComparison(into: output) }
            var loaded: [Input] = []
            if inputs.isEmpty {
                loaded = try zip(DefaultExperiments.load(), DefaultExperiments.fileNames).map { .experiment($0, name: $1) }
            }
            for input in inputs {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                    throw ThunniniError("\(input): no such file or directory")
                }
                let url = URL(fileURLWithPath: input)
                if isDirectory.boolValue {
                    loaded.append(.results(try ResultsFolder.load(from: url)))
                } else {
                    loaded.append(.experiment(try ExperimentSpec.load(from: url), name: url.deletingPathExtension().lastPathComponent))
                }
            }
            var chapters: [Report.Chapter] = []
            // Experiments that pretrain the same network share one pretraining (the default's two do).
            var pretrainedByKey: [String: ExperimentRunner.Pretrained] = [:]
            for (index, input) in loaded.enumerated() {
                switch input {
                case .results(let folder):
                    chapters.append(Report.Chapter(results: folder))
                case .experiment(let original, let name):
                    let spec = original.offsettingSeeds(by: seedOffset)
                    try spec.validate()
                    if !quiet { ProgressReporter.writeToStandardError("[report] experiment \(index + 1)/\(loaded.count): \(spec.name)\n") }
                    let start = ProgressReporter.monotonicSeconds()
                    let runner = try ExperimentRunner(spec: spec, reportsProgress: !quiet)
                    let key = runner.pretrainingKey
                    let results = try runner.run(pretrained: key.flatMap { pretrainedByKey[$0] })
                    if let key, pretrainedByKey[key] == nil, let curves = results.pretraining {
                        pretrainedByKey[key] = ExperimentRunner.Pretrained(parameters: results.parameters, curves: curves)
                    }
                    let seconds = ProgressReporter.monotonicSeconds() - start
                    let folder = "results/e\(index + 1)-\(Self.slug(name))/"
                    try results.write(into: output, under: folder)
                    let stored = try ResultsFolder.load(from: output.staging.appendingPathComponent(folder))
                    chapters.append(Report.Chapter(results: stored, runSeconds: seconds, resultsLink: folder))
                }
            }
            if !quiet { ProgressReporter.writeToStandardError("[report] rendering \(chapters.count) chapter(s)\n") }
            try Report.write(chapters, into: output)
            try output.commit()
            FileHandle.standardError.write(Data("wrote \(out)/README.md\n".utf8))
        }
    }

    /// `--compare A B`: both inputs must be results folders.
    func runComparison(into output: AtomicOutputDirectory) throws {
        guard inputs.count == 2 else {
            throw ThunniniError("--compare takes exactly two results folders, got \(inputs.count) input(s)")
        }
        let folders = try inputs.map { input -> ResultsFolder in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ThunniniError("\(input): not a results folder (--compare takes two folders written by `run`)")
            }
            return try ResultsFolder.load(from: URL(fileURLWithPath: input))
        }
        let outcome = Comparison.compare(folders[0], folders[1])
        try output.write(text: Comparison.markdown(outcome, a: folders[0], b: folders[1], labels: (inputs[0], inputs[1])), to: "README.md")
        try output.commit()
        print(outcome.verdictLine)
        FileHandle.standardError.write(Data("wrote \(out)/README.md\n".utf8))
    }

    /// A file-name-safe version of an experiment file's name.
    static func slug(_ name: String) -> String {
        let s = name.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        let trimmed = s.split(separator: "-").joined(separator: "-")
        return trimmed.isEmpty ? "experiment" : String(trimmed.prefix(60))
    }
}
