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

    func run() throws {
        do {
            guard length >= 1 else {
                throw ThunniniError("--length must be >= 1, got \(length)")
            }
            let sourceGenerator = try loadGenerator(source, role: "source")
            let predictorGenerator = try loadGenerator(predictor, role: "predictor")
            let regret = try ExactRegret.compute(source: sourceGenerator, predictor: predictorGenerator,
                                                 length: length)
            print(try regret.json())
        } catch let error as ThunniniError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Reads, decodes and checks a data-generator config, turning every
    /// failure into one line that names the file (and the key or field).
    private func loadGenerator(_ path: String, role: String) throws -> any DataGenerator {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ThunniniError("cannot read \(role) file '\(path)'")
        }
        do {
            let config = try JSONDecoder().decode(DataGeneratorConfig.self, from: data)
            return try makeDataGenerator(config, checkingBatchShape: false)
        } catch let error as ThunniniError {
            throw ThunniniError("\(role) file '\(path)': \(error.message)")
        } catch let error as DecodingError {
            throw ThunniniError("\(role) file '\(path)': \(describe(error))")
        } catch {
            throw ThunniniError("\(role) file '\(path)': \(error)")
        }
    }

    /// A one-line account of a JSON decoding failure, naming the key path.
    private func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ last: CodingKey? = nil) -> String {
            let keys = context.codingPath + (last.map { [$0] } ?? [])
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key '\(path(context, key))'"
        case .typeMismatch(let type, let context):
            return "wrong type at '\(path(context))': expected \(type)"
        case .valueNotFound(let type, let context):
            return "missing value at '\(path(context))': expected \(type)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "not valid JSON"
                : "invalid value at '\(path(context))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
