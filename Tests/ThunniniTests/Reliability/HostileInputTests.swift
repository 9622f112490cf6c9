import Foundation
import Testing
import ZIPFoundation
@testable import Thunnini

/// Hostile inputs, one test per family of bad input: each must end in exactly
/// one `error:` line naming the file and the key or array, a non-zero exit,
/// and no output (no destination, no `*.partial-*` staging directory).
/// A wrong implementation these catch: a trap (exit by signal, no error
/// line), an allocation abort, exit 0 with NaN written, or a refusal that
/// comes only after the computation.
@Suite final class HostileInputTests {
    let scratch: URL

    init() throws { scratch = try makeTemporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    // MARK: - Running the executable

    struct Outcome {
        var status: Int32
        var reason: Process.TerminationReason
        var stderr: String
        var seconds: Double
        var errorLines: [String] { stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.map(String.init) }
    }

    func run(_ arguments: [String], environment: [String: String] = [:], signal: (Int32, after: (URL) -> Bool)? = nil,
             executable: URL = CLITests.executable) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = scratch
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        let start = Date()
        try process.run()
        if let signal {
            let deadline = Date().addingTimeInterval(60)
            while !signal.after(scratch), Date() < deadline { usleep(20_000) }
            kill(process.processIdentifier, signal.0)
        }
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, reason: process.terminationReason,
                       stderr: String(decoding: stderr, as: UTF8.self), seconds: Date().timeIntervalSince(start))
    }

    /// Exactly one error line, equal to `expected` (after `error: `), an
    /// ordinary non-zero exit, and nothing written for `out`.
    func expectRefusal(_ outcome: Outcome, _ expected: String, out: String? = "out", sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.reason == .exit, "terminated by a signal: \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.status == 1, sourceLocation: sourceLocation)
        #expect(outcome.errorLines == ["error: \(expected)"], "stderr: \(outcome.stderr)", sourceLocation: sourceLocation)
        if let out { expectNothingWritten(out, sourceLocation: sourceLocation) }
    }

    func expectNothingWritten(_ out: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? []
        #expect(!names.contains { $0 == out || $0.hasPrefix("\(out).partial-") }, "left behind: \(names)", sourceLocation: sourceLocation)
    }

    @discardableResult
    func file(_ name: String, _ text: String) throws -> String {
        try text.write(to: scratch.appendingPathComponent(name), atomically: true, encoding: .utf8)
        return name
    }

    func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    // A tiny predictor and configs, as files in the scratch directory.
    func writeBasics() throws {
        try file("p.json", #"{"token_dimensionality": 2, "embedding_dimensionality": 4}"#)
        try file("t.json", #"{"torso_type": "LSTM", "is_trainable": true, "hidden_sizes": [3]}"#)
        try file("d.json", #"{"generator_type": "Categorical", "batch_size": 4, "sequence_length": 5, "vocab_size": 2, "biases": [0.2, 0.8]}"#)
        try file("tr.json", #"{"num_training_steps": 2, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 0, "predictor_init_seed": 0}"#)
    }

    let model = ["--predictor-config", "p.json", "--torso-config", "t.json"]

    func trainedParameters() throws -> String {
        try writeBasics()
        let trained = try run(["train"] + model + ["--data-config", "d.json", "--training-config", "tr.json", "--out", "trained"])
        #expect(trained.status == 0, "\(trained.stderr)")
        return "trained/parameters.npz"
    }

    func tuningConfig(_ name: String, steps: String = "2", learningRate: String = "0.01", method: String = "full_parameters", extra: String = "") throws -> String {
        try file(name, #"{"num_tuning_steps": \#(steps), "learning_rate": \#(learningRate), "max_grad_norm": 1e300, "data_gen_seed": 0, "prefix_init_seed": 0, "tuning_method": "\#(method)"\#(extra)}"#)
    }

    func smokeSpec(_ edit: (inout [String: Any]) -> Void) throws -> String {
        let data = try Data(contentsOf: repositoryRoot().appendingPathComponent("Docs/examples/smoke.json"))
        var spec = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        edit(&spec)
        let name = "exp-\(UUID().uuidString.prefix(8)).json"
        try JSONSerialization.data(withJSONObject: spec).write(to: scratch.appendingPathComponent(name))
        return name
    }

    static func setting(_ value: Any, at keys: [Any], in object: Any) -> Any {
        guard let first = keys.first else { return value }
        let rest = Array(keys.dropFirst())
        if let index = first as? Int, var list = object as? [Any] {
            list[index] = setting(value, at: rest, in: list[index]); return list
        }
        var dict = object as! [String: Any]
        let key = first as! String
        dict[key] = setting(value, at: rest, in: dict[key] as Any); return dict
    }

    func spec(setting value: Any, at keys: [Any]) throws -> String {
        try smokeSpec { $0 = Self.setting(value, at: keys, in: $0) as! [String: Any] }
    }

    // MARK: - 1. Traps on small crafted inputs

    @Test func sizesFromInputThatOverflowAreErrorsNotTraps() throws {
        let parameters = try trainedParameters()
        // num_tuning_steps = Int.max: the tuning loop runs num_tuning_steps + 1 steps.
        expectRefusal(try run(["tune"] + model + ["--parameters", parameters, "--data-config", "d.json",
                                                  "--tuning-config", try tuningConfig("max.json", steps: "9223372036854775807"), "--out", "out"]),
                      "max.json: invalid config field 'num_tuning_steps': must be < 9223372036854775807, got 9223372036854775807")
        let steps = try spec(setting: Int.max, at: ["tuning_configs", 0, "config", "num_tuning_steps"])
        expectRefusal(try run(["run", steps, "--out", "out"]),
                      "\(path(steps)): invalid config field 'tuning_configs[RealPT].config.num_tuning_steps': must be < 9223372036854775807, got 9223372036854775807")
        // A shape product that overflows (batch_size 2^62) is a memory refusal, not a trap.
        try file("big.json", #"{"generator_type": "Categorical", "batch_size": 4611686018427387904, "sequence_length": 5, "vocab_size": 2, "biases": [0.2, 0.8]}"#)
        let big = try run(["train"] + model + ["--data-config", "big.json", "--training-config", "tr.json", "--out", "out"])
        #expect(big.reason == .exit && big.errorLines.count == 1)
        #expect(big.errorLines.first?.hasPrefix("error: big.json: needs more than 10^18 bytes of memory, above the budget of") == true, "\(big.stderr)")
        #expect(big.errorLines.first?.contains("big.json: batch_size 4611686018427387904 x sequence_length 5 x vocab_size 2") == true)
        // An iterated data seed that would pass Int.max.
        let seed = try spec(setting: Int.max, at: ["tuning_configs", 0, "config", "data_gen_seed"])
        expectRefusal(try run(["run", seed, "--out", "out"]),
                      "\(path(seed)): invalid config field 'tuning_configs[RealPT].config.data_gen_seed': 9223372036854775807 + num_tuning_repetitions 2 is too large (seeds are iterated over repetitions)")
    }

    @Test func crafted_npy_npz_golden_and_bundle_files_are_refused_not_trapped() throws {
        try writeBasics()
        let parameters = try trainedParameters()
        // An .npy header whose shape product overflows.
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"
        var blob = Data(NPY.magic + [1, 0, UInt8(header.utf8.count + 1), 0])
        blob += Data((header + "\n").utf8)
        try NPZ.encode(entries: ["sequences": blob], destination: "huge.npz").write(to: scratch.appendingPathComponent("huge.npz"))
        expectRefusal(try run(["evaluate"] + model + ["--parameters", parameters, "--sequences", "huge.npz", "--out", "out"]),
                      "\(path("huge.npz")): array 'sequences': shape [4294967296, 4294967296, 4294967296]: 4294967296 x 4294967296 x 4294967296 is too large")
        // The same shape in a golden file.
        #expect(throws: ThunniniError("g.txt:1: array 'x' shape [4294967296, 4294967296, 4294967296]: 4294967296 x 4294967296 x 4294967296 is too large")) {
            try GoldenFile.parse("x shape=[4294967296,4294967296,4294967296]\n1\n", source: "g.txt")
        }
        // A zip whose end record points its central directory past the end of the file (trapped in ZIPFoundation).
        var sequences = Tensor(shape: [1, 2, 2]); sequences.storage = [1, 0, 0, 1]
        var zip = try NPZ.encode(["sequences": sequences])
        let record = zip.count - 22
        zip.replaceSubrange((record + 16)..<(record + 20), with: [0x40, 0x42, 0x0F, 0x00])  // offset 1_000_000
        try zip.write(to: scratch.appendingPathComponent("eocd.npz"))
        expectRefusal(try run(["evaluate"] + model + ["--parameters", parameters, "--sequences", "eocd.npz", "--out", "out"]),
                      "\(path("eocd.npz")): corrupt zip archive (the central directory at 1000000, \(Int(zip[record + 12]) | Int(zip[record + 13]) << 8) bytes, lies beyond its end record at \(record))")
        // A datagen bundle whose ground truth is smaller than its sequences (consistently declared).
        let bundle = scratch.appendingPathComponent("dg")
        try FileManager.default.copyItem(at: bundleDirectory("datagen_mixture_v2"), to: bundle)
        var arrays = try NPZ.read(bundle.appendingPathComponent("arrays.npz"))
        arrays["ground_truth_log_probs"] = Tensor(shape: [1, 1, 2], storage: [log(0.2), log(0.8)])
        try NPZ.write(arrays, to: bundle.appendingPathComponent("arrays.npz"))
        let json = try String(contentsOf: bundle.appendingPathComponent("bundle.json"), encoding: .utf8)
        var object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        object = Self.setting([1, 1, 2], at: ["arrays", "ground_truth_log_probs"], in: object) as! [String: Any]
        try JSONSerialization.data(withJSONObject: object).write(to: bundle.appendingPathComponent("bundle.json"))
        expectRefusal(try run(["crosscheck", "dg"]),
                      "dg: bundle 'datagen_mixture_v2': ground_truth_log_probs has shape [1, 1, 2], expected the shape of sequences [8, 30, 2]", out: nil)
    }

    // MARK: - 2. Resource bounds

    @Test func hugeSizesAreRefusedByTheMemoryBudgetBeforeAllocating() throws {
        try writeBasics()
        try file("wide.json", #"{"token_dimensionality": 2, "embedding_dimensionality": 1000000000}"#)
        let wide = try run(["train", "--predictor-config", "wide.json", "--torso-config", "t.json", "--data-config", "d.json",
                            "--training-config", "tr.json", "--out", "out", "--max-memory", "8G"])
        #expect(wide.reason == .exit && wide.status == 1)
        #expect(wide.errorLines.count == 1)
        #expect(wide.errorLines.first?.hasPrefix("error: d.json: needs about ") == true, "\(wide.stderr)")
        #expect(wide.errorLines.first?.contains("above the budget of 8.0 GB; the largest part is") == true, "\(wide.stderr)")
        #expect(wide.errorLines.first?.contains("embedding_dimensionality 1000000000") == true, "\(wide.stderr)")
        expectNothingWritten("out")
        // The experiment names the key path.
        let batch = try spec(setting: 1 << 40, at: ["eval_data_configs", 1, "config", "batch_size"])
        let refused = try run(["run", batch, "--out", "out", "--max-memory", "1G"])
        #expect(refused.errorLines.count == 1 && refused.status == 1)
        #expect(refused.errorLines.first?.contains("eval_data_configs[Random Coins].config.batch_size 1099511627776") == true, "\(refused.stderr)")
        expectNothingWritten("out")
        // A small archive that inflates far beyond the budget is refused before inflating.
        let parameters = "trained/parameters.npz"
        _ = try trainedParameters()
        let bomb = Data(count: 64 << 20)
        let archive = try Archive(accessMode: .create)
        try archive.addEntry(with: "sequences.npy", type: .file, uncompressedSize: Int64(bomb.count), compressionMethod: .deflate) { position, size in
            bomb.subdata(in: Int(position)..<min(Int(position) + size, bomb.count))
        }
        try archive.data!.write(to: scratch.appendingPathComponent("bomb.npz"))
        expectRefusal(try run(["evaluate"] + model + ["--parameters", parameters, "--sequences", "bomb.npz", "--out", "out", "--max-memory", "100M"]),
                      "\(path("bomb.npz")): array 'sequences' declares 64.0 MB, above the memory budget of 100.0 MB (--max-memory)")
        // exact: count vectors x V, not only count vectors.
        let alphas = [String](repeating: "1", count: 100_000).joined(separator: ",")
        try file("bigv.json", #"{"generator_type": "Dirichlet-Categorical", "batch_size": 1, "sequence_length": 1, "vocab_size": 100000, "alphas": [\#(alphas)]}"#)
        let exact = try run(["exact", "--source", "bigv.json", "--predictor", "bigv.json", "--length", "2"])
        expectRefusal(exact, "exact regret: length 2 with vocab_size 100000 needs about 1e+10 operations (count vectors x vocab_size), above the limit of 200000000; use a shorter length or a smaller vocabulary", out: nil)
        #expect(exact.seconds < 30)
    }

    // MARK: - 3. Silent NaN

    @Test func divergingTrainingAndNonFiniteInputsStopWithTheirCause() throws {
        try writeBasics()
        try file("hot.json", #"{"num_training_steps": 30, "learning_rate": 1e308, "max_grad_norm": 1e308, "data_gen_seed": 0, "predictor_init_seed": 0}"#)
        let train = try run(["train"] + model + ["--data-config", "d.json", "--training-config", "hot.json", "--out", "out"])
        #expect(train.errorLines.count == 1 && train.status == 1, "\(train.stderr)")
        #expect(train.errorLines.first?.hasPrefix("error: pretraining (full_parameters), step ") == true, "\(train.stderr)")
        #expect(train.errorLines.first?.contains("learning_rate 1e+308 is likely too large); nothing was written") == true)
        expectNothingWritten("out")
        let parameters = try trainedParameters()
        let tune = try run(["tune"] + model + ["--parameters", parameters, "--data-config", "d.json",
                                               "--tuning-config", try tuningConfig("hot-tune.json", steps: "20", learningRate: "1e308"), "--out", "out"])
        #expect(tune.errorLines.first?.hasPrefix("error: tuning (full_parameters), step ") == true, "\(tune.stderr)")
        #expect(tune.errorLines.count == 1 && tune.status == 1)
        expectNothingWritten("out")
        let prefixTune = try run(["tune"] + model + ["--parameters", parameters, "--data-config", "d.json",
                                                     "--tuning-config", try tuningConfig("hot-prefix.json", steps: "20", learningRate: "1e308", method: "prefix_real", extra: #", "prefix_length": 2"#), "--out", "out"])
        #expect(prefixTune.errorLines.first?.hasPrefix("error: tuning (prefix_real), step ") == true, "\(prefixTune.stderr)")
        #expect(prefixTune.errorLines.first?.contains("learning_rate 1e+308 is likely too large") == true, "blames the learning rate, not the prefix: \(prefixTune.stderr)")
        expectNothingWritten("out")
        // In an experiment: which config and repetition.
        let hot = try spec(setting: 1e308, at: ["tuning_configs", 1, "config", "learning_rate"])
        let experiment = try run(["run", hot, "--out", "out", "--quiet"])
        #expect(experiment.errorLines.first?.hasPrefix("error: tuning_configs[SoftPT] repetition 1: tuning (prefix_soft), step ") == true, "\(experiment.stderr)")
        expectNothingWritten("out")
        // NaN parameters are refused at load, naming the array and index.
        var tree = try NPZ.read(scratch.appendingPathComponent(parameters))
        let name = tree.keys.sorted()[0]
        tree[name]!.storage[0] = .nan
        try NPZ.write(tree, to: scratch.appendingPathComponent("nan.npz"))
        var sequences = Tensor(shape: [1, 2, 2]); sequences.storage = [1, 0, 0, 1]
        try NPZ.write(["sequences": sequences], to: scratch.appendingPathComponent("seq.npz"))
        let index = tree[name]!.rank == 1 ? "[0]" : "[0, 0]"
        expectRefusal(try run(["evaluate"] + model + ["--parameters", "nan.npz", "--sequences", "seq.npz", "--out", "out"]),
                      "\(path("nan.npz")): array '\(name)' has the non-finite value nan at \(index)")
        // A NaN prefix likewise.
        try NPZ.write(["prefix": Tensor(shape: [1, 2], storage: [0, .infinity])], to: scratch.appendingPathComponent("inf-prefix.npz"))
        expectRefusal(try run(["evaluate"] + model + ["--parameters", parameters, "--sequences", "seq.npz", "--prefix", "inf-prefix.npz",
                                                      "--prefix-type", "prepend", "--out", "out"]),
                      "inf-prefix.npz: array 'prefix' has the non-finite value inf at [0, 1]")
        // exact with alphas whose sum overflows: the true reason.
        try file("huge.json", #"{"generator_type": "Dirichlet-Categorical", "batch_size": 1, "sequence_length": 1, "vocab_size": 2, "alphas": [1e308, 1e308]}"#)
        expectRefusal(try run(["exact", "--source", "huge.json", "--predictor", repositoryRoot().appendingPathComponent("Docs/examples/laplace.json").path, "--length", "3"]),
                      "exact regret: the source's alphas sum to inf, above 2^53, where adding counts to them is lost in double precision; use a Categorical config for a known distribution", out: nil)
    }

    // MARK: - 4. Late refusals

    @Test func unusableOutputPathsAreRefusedBeforeComputing() throws {
        try writeBasics()
        // A training run of 10^9 steps: a refusal that came after it would time out this test.
        try file("long.json", #"{"num_training_steps": 1000000000, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 0, "predictor_init_seed": 0}"#)
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("full"), withIntermediateDirectories: false)
        try file("full/keep.txt", "keep")
        try file("afile", "x")
        let train = ["train"] + model + ["--data-config", "d.json", "--training-config", "long.json"]
        expectRefusal(try run(train + ["--out", "full"]),
                      "\(path("full")): already exists and is not empty; choose another directory or overwrite it explicitly", out: nil)
        expectRefusal(try run(train + ["--out", "afile"]), "\(path("afile")): exists and is not a directory; refusing to replace it", out: nil)
        expectRefusal(try run(train + ["--out", "missing/out"]), "\(path("missing/out")): parent directory \(path("missing")) does not exist", out: nil)
        expectRefusal(try run(train + ["--out", ""]), "--out must not be empty", out: nil)
        expectRefusal(try run(["run", repositoryRoot().appendingPathComponent("Docs/examples/notebook-default.json").path, "--out", "full"]),
                      "\(path("full")): already exists and is not empty; choose another directory or overwrite it explicitly", out: nil)
        #expect(try String(contentsOf: scratch.appendingPathComponent("full/keep.txt"), encoding: .utf8) == "keep")
        // Names that pass the character rules but cannot be written.
        let index = try spec(setting: "index.json", at: ["eval_data_configs", 0, "name"])
        expectRefusal(try run(["run", index, "--out", "out"]),
                      "\(path(index)): invalid config field 'eval_data_configs[0].name': 'index.json' is reserved for an output file (evaluation/index.json)")
        let emoji = try spec(setting: String(repeating: "😀", count: 70), at: ["eval_data_configs", 0, "name"])
        expectRefusal(try run(["run", emoji, "--out", "out"]),
                      "\(path(emoji)): invalid config field 'eval_data_configs[0].name': is 280 bytes in UTF-8; file names allow at most 250 (plus '.json')")
        let caseCollision = try spec(setting: "two-coin mixture", at: ["eval_data_configs", 1, "name"])
        expectRefusal(try run(["run", caseCollision, "--out", "out"]),
                      "\(path(caseCollision)): invalid config field 'eval_data_configs[1].name': 'two-coin mixture' differs from 'Two-Coin Mixture' only in case (one file on case-insensitive file systems)")
        // tune with prefix_length 0 is a config error naming the file and key.
        let parameters = try trainedParameters()
        expectRefusal(try run(["tune"] + model + ["--parameters", parameters, "--data-config", "d.json", "--tuning-config",
                                                  try tuningConfig("zero.json", method: "prefix_real", extra: #", "prefix_length": 0"#), "--out", "out"]),
                      "zero.json: invalid config field 'prefix_length': must be >= 1 for tuning_method 'prefix_real', got 0")
    }

    // MARK: - 5. Silently accepted bad input

    @Test func badInputThatWasAcceptedIsRefused() throws {
        let parameters = try trainedParameters()
        try file("dup.json", #"{"generator_type": "Categorical", "batch_size": 8, "batch_size": -1, "sequence_length": 5, "vocab_size": 2, "biases": [0.2, 0.8]}"#)
        expectRefusal(try run(["train"] + model + ["--data-config", "dup.json", "--training-config", "tr.json", "--out", "out"]),
                      "dup.json: duplicate key 'batch_size'")
        let nested = try smokeSpec { _ in }
        var text = try String(contentsOf: scratch.appendingPathComponent(nested), encoding: .utf8)
        text = text.replacingOccurrences(of: #""hidden_sizes":"#, with: #""hidden_sizes":[4],"hidden_sizes":"#)
        try file(nested, text)
        expectRefusal(try run(["run", nested, "--out", "out"]), "\(path(nested)): duplicate key 'torso_config.hidden_sizes'")
        // Not one-hot: would give negative losses.
        try NPZ.write(["sequences": Tensor(shape: [1, 2, 2], storage: [1, 0, 0.5, 0.5])], to: scratch.appendingPathComponent("soft.npz"))
        expectRefusal(try run(["evaluate"] + model + ["--parameters", parameters, "--sequences", "soft.npz", "--out", "out"]),
                      "soft.npz: array 'sequences' is not one-hot: 0.5 at [0, 1, 0]")
        // A prefix for a weight method.
        try NPZ.write(["prefix": Tensor(shape: [1, 2], storage: [0, 1])], to: scratch.appendingPathComponent("prefix.npz"))
        expectRefusal(try run(["tune"] + model + ["--parameters", parameters, "--data-config", "d.json", "--tuning-config",
                                                  try tuningConfig("weights.json"), "--initial-prefix", "prefix.npz", "--out", "out"]),
                      "--initial-prefix was given, but weights.json: tuning_method 'full_parameters' tunes weights, not a prefix")
        // Bundles: tolerance and optimizer fields, NaN sequences.
        for (name, edit, expected) in [
            ("negtol", { (o: inout [String: Any]) in o = Self.setting(-1.0, at: ["tolerance", "grad", "atol"], in: o) as! [String: Any] },
             "'tolerance.grad.atol' must be finite and >= 0, got -1.0"),
            ("neglr", { (o: inout [String: Any]) in o = Self.setting(-0.1, at: ["optimizer", "learning_rate"], in: o) as! [String: Any] },
             "'optimizer.learning_rate' must be finite and > 0, got -0.1"),
        ] {
            let bundle = scratch.appendingPathComponent(name)
            try FileManager.default.copyItem(at: bundleDirectory("linear"), to: bundle)
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: bundle.appendingPathComponent("bundle.json"))) as! [String: Any]
            edit(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: bundle.appendingPathComponent("bundle.json"))
            expectRefusal(try run(["crosscheck", name]), "\(name): \(bundle.appendingPathComponent("bundle.json").path): \(expected)", out: nil)
        }
        let nanBundle = scratch.appendingPathComponent("nanseq")
        try FileManager.default.copyItem(at: bundleDirectory("linear"), to: nanBundle)
        var arrays = try NPZ.read(nanBundle.appendingPathComponent("arrays.npz"))
        arrays["sequences"]!.storage[0] = .nan
        try NPZ.write(arrays, to: nanBundle.appendingPathComponent("arrays.npz"))
        expectRefusal(try run(["crosscheck", "nanseq"]),
                      "nanseq: \(nanBundle.appendingPathComponent("arrays.npz").path): array 'sequences' has the non-finite value nan at [0, 0, 0]", out: nil)
    }

    // MARK: - 6. Interrupted writes

    @Test(arguments: [(SIGINT, Int32(130), "SIGINT"), (SIGTERM, Int32(143), "SIGTERM")])
    func anInterruptDuringTheWriteRemovesTheStagingDirectory(signal: Int32, status: Int32, name: String) throws {
        try writeBasics()
        // The test hook holds the complete staged output for 30 s before the final rename.
        let staged = { (directory: URL) in
            ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).contains { $0.hasPrefix("out.partial-") }
        }
        let outcome = try run(["train"] + model + ["--data-config", "d.json", "--training-config", "tr.json", "--out", "out"],
                              environment: ["THUNNINI_TEST_PAUSE_BEFORE_COMMIT": "30"], signal: (signal, after: staged))
        #expect(outcome.reason == .exit, "killed by the signal instead of handling it")
        #expect(outcome.status == status)
        #expect(outcome.errorLines == ["error: interrupted by \(name); no output was written"], "\(outcome.stderr)")
        #expect(outcome.seconds < 25)
        expectNothingWritten("out")
    }
}
