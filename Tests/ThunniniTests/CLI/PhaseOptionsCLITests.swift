import Foundation
import Testing
@testable import Thunnini

/// The single-phase commands' fidelity options, through the executable:
/// `tune --initial-prefix` with a config that has no prefix settings, and
/// `evaluate --seed --num-batches` drawing the original's batches.
@Suite final class PhaseOptionsCLITests {
    let scratch: URL

    init() throws { scratch = try makeTemporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
    }

    func write(_ text: String, to name: String) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func tuneWithAnInitialPrefixAndEvaluateWithBatches() throws {
        let predictor = try write(#"{"token_dimensionality": 2, "embedding_dimensionality": 4}"#, to: "p.json")
        let torso = try write(#"{"torso_type": "LSTM", "is_trainable": true, "hidden_sizes": [3]}"#, to: "t.json")
        let training = try write(#"{"num_training_steps": 2, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 0, "predictor_init_seed": 0}"#, to: "tr.json")
        let dataText = #"{"generator_type": "Categorical", "batch_size": 4, "sequence_length": 5, "vocab_size": 2, "biases": [0.2, 0.8]}"#
        let data = try write(dataText, to: "d.json")
        let trained = scratch.appendingPathComponent("trained").path
        let train = try run(["train", "--predictor-config", predictor, "--torso-config", torso, "--data-config", data,
                             "--training-config", training, "--out", trained])
        #expect(train.status == 0, "\(train.stderr)")
        let parameters = trained + "/parameters.npz"

        // No prefix_length / prefix_init_method: fine with --initial-prefix, one error line without.
        let tuning = try write(#"{"num_tuning_steps": 1, "learning_rate": 0.01, "max_grad_norm": 1, "data_gen_seed": 0, "prefix_init_seed": 0, "tuning_method": "prefix_soft", "prefix_init_method": null}"#, to: "tu.json")
        let given = Tensor.normal(shape: [3, 4], key: RandomKey(seed: 4))
        let prefixFile = scratch.appendingPathComponent("given.npz")
        try NPZ.write(["prefix": given], to: prefixFile)
        let tuned = scratch.appendingPathComponent("tuned").path
        let tune = try run(["tune", "--predictor-config", predictor, "--torso-config", torso, "--parameters", parameters,
                            "--data-config", data, "--tuning-config", tuning, "--initial-prefix", prefixFile.path, "--out", tuned])
        #expect(tune.status == 0, "\(tune.stderr)")
        let written = try NPZ.read(URL(fileURLWithPath: tuned + "/prefix.npz"))
        #expect(written["initial_prefix"] == given && written["prefix"]?.shape == [3, 4])
        let refused = try run(["tune", "--predictor-config", predictor, "--torso-config", torso, "--parameters", parameters,
                               "--data-config", data, "--tuning-config", tuning, "--out", scratch.appendingPathComponent("never").path])
        #expect(refused.status != 0)
        #expect(refused.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") && $0.contains("prefix_length") }.count == 1,
                "\(refused.stderr)")

        // evaluate --seed 5 --num-batches 2: the two batches of evaluate_predictor_from_datagen.
        let evaluated = scratch.appendingPathComponent("evaluated").path
        let evaluate = try run(["evaluate", "--predictor-config", predictor, "--torso-config", torso, "--parameters", parameters,
                                "--data-config", data, "--seed", "5", "--num-batches", "2", "--out", evaluated])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        let results = try NPZ.read(URL(fileURLWithPath: evaluated + "/results.npz"))
        let generator = try makeDataGenerator(decodeConfig(DataGeneratorConfig.self, from: Data(dataText.utf8), source: "d.json"))
        #expect(results["sequences"] == Evaluation.generateFromDatagen(generator, seed: 5, numBatches: 2).sequences)
        #expect(results["sequences"]?.shape == [8, 5, 2])
        let zero = try run(["evaluate", "--predictor-config", predictor, "--torso-config", torso, "--parameters", parameters,
                            "--data-config", data, "--num-batches", "0", "--out", scratch.appendingPathComponent("never2").path])
        #expect(zero.status != 0 && zero.stderr.contains("--num-batches"))
    }
}
