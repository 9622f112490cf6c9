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

    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup var memoryOptions: MemoryOptions

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            try memoryOptions.apply()
            try prepareOutput(out, overwrite: overwrite)
            let spec = try ExperimentSpec.load(from: URL(fileURLWithPath: experiment))
            try spec.memoryEstimate().check(source: URL(fileURLWithPath: experiment).path)
            let results = try ExperimentRunner(spec: spec, reportsProgress: !quiet).run()
            try results.write(to: URL(fileURLWithPath: out), overwrite: overwrite)
            FileHandle.standardError.write(Data("wrote \(out)\n".utf8))
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
