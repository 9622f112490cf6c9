import Foundation
import Testing
@testable import Thunnini

/// The `thunnini-ref` executable as a user meets it: bad input ends in one
/// `error:` line on stderr and a non-zero exit, with nothing half-written.
/// `swift test` builds the executable next to the test binary.
@Suite final class CLITests {
    let scratch: URL

    init() throws { scratch = try makeTemporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    static var executable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("thunnini-ref")
    }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var errorLines: [Substring] { stderr.split(separator: "\n").filter { $0.hasPrefix("error:") } }
    }

    /// Runs the built executable with `arguments`; its exit status and raw output.
    static func runExecutable(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: Data) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    func run(_ arguments: [String]) throws -> Outcome {
        let result = try Self.runExecutable(arguments)
        return Outcome(status: result.status, stdout: String(decoding: result.stdout, as: UTF8.self),
                       stderr: String(decoding: result.stderr, as: UTF8.self))
    }

    func expectOneErrorLine(_ outcome: Outcome, mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.status != 0, sourceLocation: sourceLocation)
        #expect(outcome.errorLines.count == 1, "stderr: \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.errorLines.first?.contains(fragment) == true, "stderr: \(outcome.stderr)", sourceLocation: sourceLocation)
    }

    func example(_ name: String) -> String { repositoryRoot().appendingPathComponent("Docs/examples/\(name)").path }

    func write(_ text: String, to name: String) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func theExecutableIsBuiltNextToTheTests() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.executable.path), "\(Self.executable.path)")
    }

    @Test func exactPrintsJSONAndRefusesBadFiles() throws {
        let good = try run(["exact", "--source", example("coin-0.2.json"), "--predictor", example("laplace.json"), "--length", "3"])
        #expect(good.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(good.stdout.utf8)) as? [String: [Double]]
        // A coin of bias 0.2 under Laplace: R_N = ln(N + 1) - H(Binomial(N, 0.2)), by hand.
        let closedForm = (1...3).map { n -> Double in
            let entropy = (0...n).reduce(0.0) { total, k in
                let p = Double((0..<k).reduce(1) { $0 * (n - $1) } / (1...max(k, 1)).reduce(1, *)) * pow(0.2, Double(k)) * pow(0.8, Double(n - k))
                return total - p * log(p)
            }
            return log(Double(n + 1)) - entropy
        }
        let cumulative = try #require(json?["cumulative_regret"])
        #expect(cumulative.count == 3 && json?["instant_regret"]?.count == 3)
        #expect(zip(cumulative, closedForm).allSatisfy { abs($0 - $1) <= 1e-12 }, "\(cumulative) vs \(closedForm)")
        #expect(zip(json!["instant_regret"]!, [closedForm[0], closedForm[1] - closedForm[0], closedForm[2] - closedForm[1]])
            .allSatisfy { abs($0 - $1) <= 1e-12 })
        let bad = try write(#"{"generator_type": "Categorical", "batch_size": 1, "sequence_length": 1, "vocab_size": 2, "biases": [0.5, 0.6]}"#, to: "bad.json")
        let refused = try run(["exact", "--source", bad, "--predictor", example("laplace.json"), "--length", "3"])
        expectOneErrorLine(refused, mentioning: "biases")
        #expect(refused.stdout.isEmpty)
    }

    @Test func runWritesAllOrNothing() throws {
        let out = scratch.appendingPathComponent("results").path
        let first = try run(["run", example("smoke.json"), "--out", out, "--quiet"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/summary.md"))
        let before = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        expectOneErrorLine(try run(["run", example("smoke.json"), "--out", out, "--quiet"]), mentioning: "already exists")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == before)

        // An invalid experiment: one line naming the key path, and no directory at all.
        var spec = try String(contentsOfFile: example("smoke.json"), encoding: .utf8)
        spec = spec.replacingOccurrences(of: "\"learning_rate\": 0.01", with: "\"learning_rate\": 0")
        let invalid = try write(spec, to: "invalid.json")
        let other = scratch.appendingPathComponent("never").path
        expectOneErrorLine(try run(["run", invalid, "--out", other]), mentioning: "learning_rate")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("never") }.isEmpty)
    }

    @Test func crosscheckFailsCleanlyOnATruncatedBundle() throws {
        let copy = scratch.appendingPathComponent("lstm")
        try FileManager.default.copyItem(at: bundleDirectory("lstm"), to: copy)
        let npz = copy.appendingPathComponent("arrays.npz")
        let data = try Data(contentsOf: npz)
        try data.prefix(1000).write(to: npz)
        let outcome = try run(["crosscheck", copy.path])
        expectOneErrorLine(outcome, mentioning: "arrays.npz")
        let good = try run(["crosscheck", bundleDirectory("linear").path, "--require-all"])
        #expect(good.status == 0 && good.stdout.hasPrefix("PASS linear"))
    }

    @Test func singlePhasesRefuseBadConfigsWithoutWriting() throws {
        let predictor = try write(#"{"token_dimensionality": 2, "embedding_dimensionality": 4}"#, to: "p.json")
        let torso = try write(#"{"torso_type": "LSTM", "is_trainable": true, "hidden_sizes": [3]}"#, to: "t.json")
        let training = try write(#"{"num_training_steps": 2, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 0, "predictor_init_seed": 0}"#, to: "tr.json")
        let data = try write(#"{"generator_type": "Categorical", "batch_size": 4, "sequence_length": 5, "vocab_size": 2, "biases": [0.2, 0.8]}"#, to: "d.json")
        let trained = scratch.appendingPathComponent("trained").path
        let train = try run(["train", "--predictor-config", predictor, "--torso-config", torso, "--data-config", data,
                             "--training-config", training, "--out", trained])
        #expect(train.status == 0, "\(train.stderr)")
        let badTuning = try write(#"{"num_tuning_steps": 2, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 0, "prefix_init_seed": 0, "tuning_method": "lora_finetune"}"#, to: "tu.json")
        let tuned = scratch.appendingPathComponent("tuned").path
        let tune = try run(["tune", "--predictor-config", predictor, "--torso-config", torso, "--parameters", trained + "/parameters.npz",
                            "--data-config", data, "--tuning-config", badTuning, "--out", tuned])
        expectOneErrorLine(tune, mentioning: "lora_finetune")
        #expect(!FileManager.default.fileExists(atPath: tuned))
        let evaluate = try run(["evaluate", "--predictor-config", predictor, "--torso-config", torso, "--parameters", trained + "/parameters.npz",
                                "--data-config", data, "--prefix-type", "prepend", "--out", scratch.appendingPathComponent("ev").path])
        expectOneErrorLine(evaluate, mentioning: "--prefix")
    }

    /// `bench --json` prints exactly one JSON object, a run per phase with
    /// the issue's keys; with an experiment file each phase runs at that
    /// file's shapes (smoke.json: pretraining 8 x 10, tuning 8 x 8,
    /// evaluation 16 x 12), which tokens_per_s x seconds_per_step gives
    /// back; a run on the demo shapes instead would give 128 x 50.
    @Test func benchPrintsOneJSONObjectAtTheExperimentShapes() throws {
        let outcome = try run(["bench", example("smoke.json"), "--steps", "1", "--threads", "1", "--json"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        let runs = try #require(object?["runs"] as? [[String: Any]])
        #expect(runs.compactMap { $0["phase"] as? String } == ["pretrain", "tune_prefix", "tune_weights", "evaluate"])
        for run in runs {
            for key in ["torso", "phase", "threads", "steps", "seconds", "seconds_per_step", "gflop_per_s"] {
                #expect(run[key] != nil, "missing \(key) in \(run)")
            }
            #expect(run["torso"] as? String == "Linear" && run["threads"] as? Int == 1 && run["steps"] as? Int == 1)
        }
        let tokens = runs.map { run -> Double in
            let (rate, perStep) = (run["tokens_per_s"] as? Double ?? 0, run["seconds_per_step"] as? Double ?? 0)
            return rate * perStep
        }
        let expectedTokens: [Double] = [8 * 10, 8 * 8, 8 * 8, 16 * 12]
        for (measured, expected) in zip(tokens, expectedTokens) {
            let error: Double = abs(measured - expected)
            #expect(error < 1e-3 * expected, "\(tokens)")
        }
    }

    /// `bench --products --json` prints one object: the measured peak and a
    /// row per Dense product of smoke.json's step (Linear torso E = 4,
    /// hidden [4]: one kernel [4, 4] over 8 x 11 positions, three kinds),
    /// with the product's shape as the kernel computes it (a kernel
    /// gradient is [in, rows] x [rows, out]). Catches the phases' table
    /// printed instead, or rows and inner swapped for a kernel gradient.
    @Test func benchProductsPrintsThePeakAndEachShape() throws {
        let outcome = try run(["bench", example("smoke.json"), "--products", "--steps", "1", "--threads", "1", "--json"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        #expect((object?["peak_gflop_per_s"] as? Double ?? 0) > 0)
        let products = try #require(object?["products"] as? [[String: Any]])
        #expect(products.compactMap { $0["product"] as? String } == ["forward", "input_gradient", "kernel_gradient"])
        let shapes = products.map { [$0["rows"] as? Int ?? -1, $0["inner"] as? Int ?? -1, $0["columns"] as? Int ?? -1] }
        #expect(shapes == [[88, 4, 4], [88, 4, 4], [4, 88, 4]])
        let withPhase = try run(["bench", example("smoke.json"), "--products", "--phase", "pretrain"])
        expectOneErrorLine(withPhase, mentioning: "--phase")
    }

    /// bench's bad input ends in one error line naming it, with nothing on stdout.
    @Test func benchRefusesBadInput() throws {
        let both = try run(["bench", example("smoke.json"), "--torso", "LSTM"])
        expectOneErrorLine(both, mentioning: "--torso")
        let missing = try run(["bench", scratch.appendingPathComponent("none.json").path])
        expectOneErrorLine(missing, mentioning: "none.json")
        let unknown = try run(["bench", "--torso", "GRU"])
        expectOneErrorLine(unknown, mentioning: "GRU")
        let steps = try run(["bench", "--steps", "0"])
        expectOneErrorLine(steps, mentioning: "--steps")
        let phase = try run(["bench", "--phase", "train"])
        expectOneErrorLine(phase, mentioning: "--phase 'train'")
        let tuning = try run(["bench", example("smoke.json"), "--tuning", "LoRAWT"])
        expectOneErrorLine(tuning, mentioning: "--tuning 'LoRAWT'")
        let tuningWithoutFile = try run(["bench", "--tuning", "SoftPT"])
        expectOneErrorLine(tuningWithoutFile, mentioning: "--tuning")
        #expect([both, missing, unknown, steps, phase, tuning, tuningWithoutFile].allSatisfy { $0.stdout.isEmpty })
    }

    /// `--phase` times the named phases only, in the usual order whatever
    /// the order given. Fails if the filter were ignored (four runs) or
    /// followed the command line's order.
    @Test func benchTimesOnlyTheChosenPhases() throws {
        let outcome = try run(["bench", example("smoke.json"), "--steps", "1", "--threads", "1", "--json",
                               "--phase", "evaluate", "--phase", "pretrain"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        let runs = try #require(object?["runs"] as? [[String: Any]])
        #expect(runs.compactMap { $0["phase"] as? String } == ["pretrain", "evaluate"])
    }

    /// `--tuning NAME` times that tuning config's method in its kind's
    /// phase: smoke.json's SoftPT instead of its first prefix method
    /// RealPT (the weight phase still FullWT), or EmbedWT instead of FullWT.
    /// The JSON object does not name the method, so the setting is checked
    /// directly, and the command runs. Fails if the name were ignored or
    /// replaced the other kind's phase.
    @Test func benchTimesTheNamedTuningConfig() throws {
        let spec = try ExperimentSpec.load(from: URL(fileURLWithPath: example("smoke.json")))
        let setting = try #require(Benchmark.experimentSetting(spec, tuningName: "SoftPT"))
        #expect(setting.prefixTuning?.method == .prefixSoft && setting.weightTuning?.method == .fullParameters)
        #expect(Benchmark.experimentSetting(spec).prefixTuning?.method == .prefixReal)
        let weights = try #require(Benchmark.experimentSetting(spec, tuningName: "EmbedWT"))
        #expect(weights.weightTuning?.method == .embedding && weights.prefixTuning?.method == .prefixReal)
        #expect(Benchmark.experimentSetting(spec, tuningName: "nothing") == nil)
        let outcome = try run(["bench", example("smoke.json"), "--steps", "1", "--threads", "1", "--json",
                               "--tuning", "EmbedWT", "--phase", "tune_weights"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
    }
}
