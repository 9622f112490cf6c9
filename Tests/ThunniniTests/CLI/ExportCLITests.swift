import Foundation
import Testing
@testable import Thunnini

/// `thunnini-ref export` as a user meets it: complete bundles that
/// `crosscheck --exact --require-all` accepts, and bad input refused in one
/// line with no directory left behind.
extension CLITests {
    func exportConfigs(torso: String) throws -> (predictor: String, torso: String) {
        (try write(#"{"token_dimensionality": 3, "embedding_dimensionality": 4}"#, to: "p.json"), try write(torso, to: "t.json"))
    }

    /// Nothing named `name` or `name.partial-*` in the scratch directory.
    func leftNothing(named name: String) throws -> Bool {
        try FileManager.default.contentsOfDirectory(atPath: scratch.path).allSatisfy { !$0.hasPrefix(name) }
    }

    @Test func exportPredictorRoundTripsAndCorruptionIsLocated() throws {
        let configs = try exportConfigs(torso: #"{"torso_type": "LSTM", "is_trainable": true, "hidden_sizes": [3, 2], "return_hidden_states": true}"#)
        let out = scratch.appendingPathComponent("lstm-bundle")
        let exported = try run(["export", "predictor", "--predictor-config", configs.predictor, "--torso-config", configs.torso,
                                "--batch", "2", "--length", "3", "--steps", "2", "--seed", "4", "--out", out.path])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out.path)) == ["bundle.json", "arrays.npz"])
        let checked = try run(["crosscheck", out.path, "--require-all", "--exact"])
        #expect(checked.status == 0 && checked.stdout.hasPrefix("PASS lstm-bundle"), "\(checked.stdout)\(checked.stderr)")

        // One element off by 1e-9: FAIL, naming the array and the index.
        let npz = out.appendingPathComponent("arrays.npz")
        var arrays = try NPZ.read(npz)
        arrays["case/embedding/logits"]!.storage[7] += 1e-9  // [0, 2, 1] of 2 x 3 x 3
        try NPZ.write(arrays, to: npz)
        let corrupted = try run(["crosscheck", out.path, "--require-all", "--exact"])
        #expect(corrupted.status != 0)
        #expect(corrupted.stdout.contains("FAIL case/embedding/logits: max abs"), "\(corrupted.stdout)")
        #expect(corrupted.stdout.contains("at [0, 2, 1]"), "\(corrupted.stdout)")

        // The existing directory is refused, and left as it was.
        let again = try run(["export", "predictor", "--predictor-config", configs.predictor, "--torso-config", configs.torso, "--out", out.path])
        expectOneErrorLine(again, mentioning: "already exists")
        #expect(try NPZ.read(npz)["case/embedding/logits"] == arrays["case/embedding/logits"])
        let replaced = try run(["export", "predictor", "--predictor-config", configs.predictor, "--torso-config", configs.torso,
                                "--batch", "2", "--length", "3", "--steps", "2", "--seed", "4", "--out", out.path, "--overwrite"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try run(["crosscheck", out.path, "--require-all", "--exact"]).status == 0)
    }

    @Test func exportRefusesMethodsTheTorsoCannotUse() throws {
        let lstm = try exportConfigs(torso: #"{"torso_type": "LSTM", "is_trainable": true, "hidden_sizes": [3]}"#)
        let out = scratch.appendingPathComponent("refused")
        expectOneErrorLine(try run(["export", "predictor", "--predictor-config", lstm.predictor, "--torso-config", lstm.torso,
                                    "--methods", "prefix_real,lora_finetune", "--out", out.path]), mentioning: "lora_finetune")
        expectOneErrorLine(try run(["export", "predictor", "--predictor-config", lstm.predictor, "--torso-config", lstm.torso,
                                    "--methods", "prefix_hard", "--out", out.path]), mentioning: "unknown tuning method 'prefix_hard'")
        let noLoRA = try exportConfigs(torso: #"{"torso_type": "Transformer", "is_trainable": true, "hidden_sizes": [4], "num_attention_heads": 2}"#)
        expectOneErrorLine(try run(["export", "predictor", "--predictor-config", noLoRA.predictor, "--torso-config", noLoRA.torso,
                                    "--methods", "lora_finetune", "--out", out.path]), mentioning: "use_lora")
        // Sizes that could not be allocated (or overflow) are refused, not attempted.
        expectOneErrorLine(try run(["export", "predictor", "--predictor-config", lstm.predictor, "--torso-config", lstm.torso,
                                    "--batch", "100000", "--length", "100000", "--out", out.path]), mentioning: "at most")
        expectOneErrorLine(try run(["export", "predictor", "--predictor-config", lstm.predictor, "--torso-config", lstm.torso,
                                    "--batch", "\(Int.max / 2)", "--length", "4", "--out", out.path]), mentioning: "too many")
        // Inputs of the wrong shape are refused before anything is computed, and the claimed directory is removed.
        try NPZ.write(["sequences": Tensor(shape: [2, 3, 2])], to: scratch.appendingPathComponent("seqs.npz"))
        expectOneErrorLine(try run(["export", "predictor", "--predictor-config", lstm.predictor, "--torso-config", lstm.torso,
                                    "--sequences", scratch.appendingPathComponent("seqs.npz").path, "--out", out.path]),
                           mentioning: "sequences must be B x T x 3")
        // Soft (non one-hot) tokens are refused too: bundles hold one-hot sequences.
        var soft = Tensor(shape: [2, 3, 3], repeating: 1.0 / 3)
        soft.storage[0] = 1
        try NPZ.write(["sequences": soft], to: scratch.appendingPathComponent("soft.npz"))
        expectOneErrorLine(try run(["export", "predictor", "--predictor-config", lstm.predictor, "--torso-config", lstm.torso,
                                    "--sequences", scratch.appendingPathComponent("soft.npz").path, "--out", out.path]),
                           mentioning: "sequences must be one-hot, but row [0, 0]")
        #expect(try leftNothing(named: "refused"))
    }

    @Test func exportDatagenRoundTrips() throws {
        let data = try write(#"{"generator_type": "Dirichlet-Categorical", "batch_size": 3, "sequence_length": 6, "vocab_size": 3, "alphas": [0.5, 1, 2]}"#, to: "d.json")
        let out = scratch.appendingPathComponent("dirichlet")
        let exported = try run(["export", "datagen", "--data-config", data, "--seed", "9", "--out", out.path])
        #expect(exported.status == 0, "\(exported.stderr)")
        let arrays = try NPZ.read(out.appendingPathComponent("arrays.npz"))
        #expect(arrays["expected_instant_regret"]?.shape == [6] && arrays["sequences"]?.shape == [3, 6, 3])
        let checked = try run(["crosscheck", out.path, "--require-all", "--exact"])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        // Too long to enumerate exactly: refused before sampling, nothing written.
        let long = try write(#"{"generator_type": "Dirichlet-Categorical", "batch_size": 1, "sequence_length": 5000, "vocab_size": 3, "alphas": [1, 1, 1]}"#, to: "long.json")
        expectOneErrorLine(try run(["export", "datagen", "--data-config", long, "--out", scratch.appendingPathComponent("too-long").path]),
                           mentioning: "count vectors")
        #expect(try leftNothing(named: "too-long"))
    }
}
