import Foundation
import Testing
@testable import Thunnini

/// Determinism across processes: the built executable, run as separate
/// processes (each with its own hash seed, heap layout and thread pool),
/// writes byte-identical outputs for the same inputs, and the thread count
/// does not change a byte. In-process determinism tests cannot catch
/// iteration over a `Dictionary`/`Set` (whose order changes with the
/// per-process hash seed) leaking into results or file layout, nor a
/// thread-count dependent reduction.
@Suite final class DeterminismCLITests {
    let scratch: URL

    init() throws { scratch = try makeTemporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        let result = try CLITests.runExecutable(arguments)
        return (result.status, result.stdout, String(decoding: result.stderr, as: UTF8.self))
    }

    /// Every regular file under `directory`, by relative path, with its bytes.
    func contents(of directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let base = directory.resolvingSymlinksInPath().path
        let enumerator = try #require(FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]))
        for case let url as URL in enumerator where try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true {
            files[String(url.resolvingSymlinksInPath().path.dropFirst(base.count))] = try Data(contentsOf: url)
        }
        return files
    }

    func example(_ name: String) -> String { repositoryRoot().appendingPathComponent("Docs/examples/\(name)").path }

    /// The thread counts every output is compared across (the first run is the reference).
    static let threadCounts = ["1", "2", "3"]

    /// Runs `arguments + ["--out", dir, "--threads", n]` once per thread
    /// count and expects every file of every run to be the first run's, byte
    /// for byte. Returns the first run's files and standard error.
    @discardableResult
    func expectSameFilesAtEveryThreadCount(_ name: String, _ arguments: [String],
                                           normalising normalise: (_ path: String, _ bytes: Data) -> Data = { $1 },
                                           sourceLocation: SourceLocation = #_sourceLocation) throws -> (files: [String: Data], stderr: String) {
        var outputs: [[String: Data]] = []
        var firstStderr = ""
        for threads in Self.threadCounts {
            // The same folder name at every thread count (bundles and reports record it).
            let out = scratch.appendingPathComponent("threads-\(threads)").appendingPathComponent(name)
            try FileManager.default.createDirectory(at: out.deletingLastPathComponent(), withIntermediateDirectories: true)
            let result = try run(arguments + ["--out", out.path, "--threads", threads])
            #expect(result.status == 0, "\(name) at \(threads) threads: \(result.stderr)", sourceLocation: sourceLocation)
            if outputs.isEmpty { firstStderr = result.stderr }
            outputs.append(Dictionary(uniqueKeysWithValues: try contents(of: out).map { ($0.key, normalise($0.key, $0.value)) }))
        }
        #expect(!outputs[0].isEmpty, "\(name) wrote nothing", sourceLocation: sourceLocation)
        for (index, other) in outputs.enumerated().dropFirst() {
            #expect(other.keys.sorted() == outputs[0].keys.sorted(), sourceLocation: sourceLocation)
            for (path, bytes) in outputs[0] {
                #expect(other[path] == bytes, "\(name) at \(Self.threadCounts[index]) threads: \(path) differs", sourceLocation: sourceLocation)
            }
        }
        return (outputs[0], firstStderr)
    }

    /// A small experiment whose kernels split work across threads at 2 and
    /// 3 threads: batches of 48 (the LSTM and attention split the batch,
    /// four and one sequences per chunk at least; the data generator sixteen),
    /// evaluation on 192 sequences of 16 tokens (3072 rows: the softmax
    /// cross-entropy splits from 2048, LayerNorm and Dense from 128 and 64).
    static func threadedSpec(torso: TorsoConfig) -> ExperimentSpec {
        var spec = smallSpec()
        spec.name = "threads"
        spec.torsoConfig = torso
        func coins(_ batch: Int, _ length: Int) -> DataGeneratorConfig {
            .dirichletCategorical(.init(batchSize: batch, sequenceLength: length, vocabSize: 2, alphas: [1, 1]))
        }
        func mixture(_ batch: Int, _ length: Int) -> DataGeneratorConfig {
            .mixtureOfCategoricals(.init(batchSize: batch, sequenceLength: length, vocabSize: 2, mixingWeights: [0.5, 0.5],
                                         biases: [[0.2, 0.8], [0.8, 0.2]]))
        }
        spec.pretraining!.dataConfig = coins(48, 8)
        spec.tuningDataConfig = mixture(48, 8)
        if case .lstm = torso { spec.tuningConfigs.removeAll { $0.name == "LoRAWT" } }
        spec.evalDataConfigs = [NamedDataConfig(name: "Two-Coin Mixture", config: mixture(192, 16)),
                                NamedDataConfig(name: "Random Coins", config: coins(192, 16))]
        return spec
    }

    static let lstm = TorsoConfig.lstm(LSTMTorsoConfig(hiddenSizes: [8, 4], returnHiddenStates: true))
    static let transformer = TorsoConfig.transformer(TransformerTorsoConfig(
        hiddenSizes: [8], returnHiddenStates: true, numAttentionHeads: 2, normalizeQK: true, useBias: true, useLoRA: true))

    func writeSpec(_ spec: ExperimentSpec, to name: String) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try JSONOutput.encode(spec).write(to: url)
        return url.path
    }

    /// `run` of an LSTM and of a Transformer experiment (every method and
    /// baseline, the dynamics data) writes the same bytes at 1, 2 and 3
    /// threads, in separate processes; a reduction whose order followed the
    /// chunking would change low bits somewhere in these files.
    @Test(arguments: [("lstm", DeterminismCLITests.lstm), ("transformer", DeterminismCLITests.transformer)])
    func runIsByteIdenticalAcrossProcessesAndThreadCounts(name: String, torso: TorsoConfig) throws {
        let file = try writeSpec(Self.threadedSpec(torso: torso), to: "\(name).json")
        let (files, stderr) = try expectSameFilesAtEveryThreadCount("run-\(name)", ["run", file])
        // Every phase reports on stderr, the evaluations included (one step per evaluation source).
        for phase in ["pretrain", "tune RealPT rep 2/2", "hard prefix search", "evaluate SoftPT", "evaluate HardPT"] {
            #expect(stderr.contains("[\(phase)] done"), "no summary line for \(phase) in: \(stderr)")
        }
        #expect(stderr.contains("[evaluate NoTuning] done 2 steps"), "stderr: \(stderr)")
        #expect(files.count >= 10 && files.keys.contains("/parameters.npz") && files.keys.contains("/dynamics/dynamics.npz"),
                "files: \(files.keys.sorted())")
    }

    /// The single-phase commands and the report at 1, 2 and 3 threads, on
    /// the Transformer (attention, LayerNorm, GELU and LoRA all split
    /// work): `train`, `tune` (a prefix and a weight method), `evaluate`,
    /// `export predictor` and `report` (which runs its experiment).
    @Test func phaseCommandsAndReportAreByteIdenticalAcrossThreadCounts() throws {
        func write(_ text: String, _ name: String) throws -> String {
            let url = scratch.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let predictor = try write(#"{"token_dimensionality": 2, "embedding_dimensionality": 8}"#, "p.json")
        let torso = try write(#"{"torso_type": "Transformer", "is_trainable": true, "hidden_sizes": [8], "return_hidden_states": true, "num_attention_heads": 2, "normalize_qk": true, "use_bias": true, "use_lora": true}"#, "t.json")
        let data = try write(#"{"generator_type": "Dirichlet-Categorical", "batch_size": 48, "sequence_length": 16, "vocab_size": 2, "alphas": [1, 1]}"#, "d.json")
        let training = try write(#"{"num_training_steps": 3, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 0, "predictor_init_seed": 0}"#, "tr.json")
        let common = ["--predictor-config", predictor, "--torso-config", torso]

        try expectSameFilesAtEveryThreadCount("train", ["train"] + common + ["--data-config", data, "--training-config", training])
        let parameters = scratch.appendingPathComponent("threads-1/train/parameters.npz").path
        for method in ["prefix_soft", "lora_finetune"] {
            let prefix = method == "prefix_soft" ? #""prefix_length": 2, "prefix_init_method": "simplex""# : #""prefix_length": null, "prefix_init_method": null"#
            let tuning = try write(#"{"num_tuning_steps": 2, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 1, "prefix_init_seed": 2, "tuning_method": "\#(method)", \#(prefix)}"#, "\(method).json")
            try expectSameFilesAtEveryThreadCount("tune-\(method)", ["tune"] + common + ["--parameters", parameters, "--data-config", data,
                                                                                       "--tuning-config", tuning])
        }
        try expectSameFilesAtEveryThreadCount("evaluate", ["evaluate"] + common + ["--parameters", parameters, "--data-config", data,
                                                                                   "--seed", "3", "--num-batches", "4"])
        try expectSameFilesAtEveryThreadCount("export", ["export", "predictor"] + common + ["--batch", "48", "--length", "8", "--steps", "2", "--seed", "4"])
        // The report records the experiment's wall-clock run time (one table row); every other byte must agree.
        let report = try writeSpec(Self.threadedSpec(torso: Self.lstm), to: "report.json")
        let runTime = "| run time |"
        let (files, _) = try expectSameFilesAtEveryThreadCount("report", ["report", report, "--quiet"]) { path, bytes in
            guard path.hasSuffix("README.md") else { return bytes }
            return Data(String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix(runTime) }.joined(separator: "\n").utf8)
        }
        #expect(files.count > 5 && files["/README.md"] != nil)
        let readme = try String(contentsOf: scratch.appendingPathComponent("threads-1/report/README.md"), encoding: .utf8)
        #expect(readme.split(separator: "\n").filter { $0.hasPrefix(runTime) }.count == 1, "the one line left out")
    }

    @Test func exactIsByteIdenticalAcrossProcessesAndThreadCounts() throws {
        let arguments = ["exact", "--source", example("two-coins.json"), "--predictor", example("laplace.json"), "--length", "60"]
        let first = try run(arguments + ["--threads", "1"])
        let second = try run(arguments + ["--threads", "1"])
        let twoThreads = try run(arguments + ["--threads", "2"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.count > 100)
        #expect(second.stdout == first.stdout)
        #expect(twoThreads.stdout == first.stdout)
    }
}
