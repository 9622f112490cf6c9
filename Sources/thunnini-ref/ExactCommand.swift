import ArgumentParser
import Foundation
import Thunnini

/// `thunnini-ref exact`: the exact expected instant and cumulative regret of
/// one generator's Bayes predictor on data from another generator, by
/// enumerating count vectors (Docs/exact-regret.md).
struct ExactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exact",
        abstract: "Exact expected regret of a Bayes predictor on a data source (no sampling).",
        discussion: """
            SOURCE and PRIOR are data-generator config files in the original's dict form \
            (generator_type, vocab_size, and the generator's parameters; batch_size and \
            sequence_length are ignored). Prints {"instant_regret": [N numbers], \
            "cumulative_regret": [N numbers]}; entry n-1 is the value after n predictions.
            """
    )

    @Option(name: .long, help: "Data-generator config (JSON) of the source of the data.")
    var source: String

    @Option(name: .long, help: "Data-generator config (JSON) whose Bayes predictor is evaluated.")
    var predictor: String

    @Option(name: .long, help: "Number of predictions N (>= 1).")
    var length: Int

    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try reportingErrors {
            try threadOptions.apply()
            guard length >= 1 else {
                throw ThunniniError("--length must be >= 1, got \(length)")
            }
            let sourceGenerator = try loadGenerator(source, role: "source")
            let predictorGenerator = try loadGenerator(predictor, role: "predictor")
            let regret = try ExactRegret.compute(source: sourceGenerator, predictor: predictorGenerator,
                                                 length: length)
            print(try regret.json())
        }
    }

    /// A data-generator config file, checked except for batch_size and
    /// sequence_length (ignored here); errors name the role and the file.
    private func loadGenerator(_ path: String, role: String) throws -> any DataGenerator {
        do {
            return try makeDataGenerator(loadJSON(DataGeneratorConfig.self, path: path), checkingBatchShape: false)
        } catch let error as ThunniniError {
            throw ThunniniError("\(role) \(error.message.hasPrefix(path) ? "" : "\(path): ")\(error.message)")
        }
    }
}
