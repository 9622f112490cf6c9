import Foundation
import Testing
@testable import Thunnini

/// Decoding and loading errors: one line, naming the file and the key path.
@Suite struct ExperimentDecodingTests {
    @Test func defaultsWhenAbsent() throws {
        var object = try jsonObject(smallSpec())
        object["eval_datagen_seed"] = nil
        object["eval_batch_size"] = nil
        object["baselines"] = nil
        var hard = object["hard_prefix"] as! [String: Any]
        hard["enabled"] = nil
        hard["num_sequences"] = nil
        hard["data_gen_seed"] = nil
        object["hard_prefix"] = hard
        let spec = try decodeSpec(object)
        #expect(spec.evalDatagenSeed == 1337)
        #expect(spec.evalBatchSize == -1)
        #expect(spec.baselines.isEmpty)
        #expect(spec.hardPrefix == HardPrefixSpec(enabled: true, prefixLength: 2, numSequences: 2048, dataGenSeed: 5))
    }

    @Test func orderOfNamedListsIsTheFileOrder() throws {
        var object = try jsonObject(smallSpec())
        object["tuning_configs"] = Array((object["tuning_configs"] as! [Any]).reversed())
        let spec = try decodeSpec(object)
        #expect(spec.tuningConfigs.map(\.name) == ["LoRAWT", "FullWT", "SoftPT", "RealPT"])
    }

    @Test func unknownTopLevelKeyIsNamed() throws {
        var object = try jsonObject(smallSpec())
        object["eval_datgen_seed"] = 0
        expectThunniniError(["test.json", "'eval_datgen_seed'", "unknown key"]) { _ = try decodeSpec(object) }
    }

    @Test func unknownNestedKeyIsNamedWithItsPath() throws {
        var object = try jsonObject(smallSpec())
        var entries = object["tuning_configs"] as! [[String: Any]]
        entries[1]["cfg"] = [:]
        object["tuning_configs"] = entries
        expectThunniniError(["'tuning_configs[1].cfg'", "unknown key"]) { _ = try decodeSpec(object) }
        object = try jsonObject(smallSpec())
        var pretraining = object["pretraining"] as! [String: Any]
        pretraining["trainig_config"] = 1
        object["pretraining"] = pretraining
        expectThunniniError(["'pretraining.trainig_config'"]) { _ = try decodeSpec(object) }
    }

    @Test func unknownBaselineIsNamed() throws {
        var object = try jsonObject(smallSpec())
        object["baselines"] = ["NoTuning", "BestGuess"]
        expectThunniniError(["'baselines[1]'", "unknown baseline 'BestGuess'", "PreBayesPT"]) { _ = try decodeSpec(object) }
    }

    @Test func unknownTorsoAndGeneratorAreLocated() throws {
        var object = try jsonObject(smallSpec())
        var torso = object["torso_config"] as! [String: Any]
        torso["torso_type"] = "GRU"
        object["torso_config"] = torso
        expectThunniniError(["'torso_config.torso_type'", "unknown torso 'GRU'"]) { _ = try decodeSpec(object) }

        object = try jsonObject(smallSpec())
        var sources = object["eval_data_configs"] as! [[String: Any]]
        var config = sources[1]["config"] as! [String: Any]
        config["generator_type"] = "Poisson"
        sources[1]["config"] = config
        object["eval_data_configs"] = sources
        expectThunniniError(["'eval_data_configs[1].config.generator_type'", "Poisson"]) { _ = try decodeSpec(object) }

        object = try jsonObject(smallSpec())
        var entries = object["tuning_configs"] as! [[String: Any]]
        var tuning = entries[0]["config"] as! [String: Any]
        tuning["tuning_method"] = "prefix_hard"
        entries[0]["config"] = tuning
        object["tuning_configs"] = entries
        expectThunniniError(["'tuning_configs[0].config.tuning_method'", "prefix_hard"]) { _ = try decodeSpec(object) }
    }

    @Test func missingAndMistypedKeysNameTheirPath() throws {
        var object = try jsonObject(smallSpec())
        var entries = object["tuning_configs"] as! [[String: Any]]
        var tuning = entries[1]["config"] as! [String: Any]
        tuning["learning_rate"] = nil
        entries[1]["config"] = tuning
        object["tuning_configs"] = entries
        expectThunniniError(["test.json", "missing key", "tuning_configs[1].config.learning_rate"]) { _ = try decodeSpec(object) }

        object = try jsonObject(smallSpec())
        object["eval_batch_size"] = "all"
        expectThunniniError(["'eval_batch_size' must be an integer"]) { _ = try decodeSpec(object) }
    }

    @Test func malformedJSONIsOneLine() {
        let data = Data("{\"name\": \"x\",".utf8)
        expectThunniniError(["bad.json", "not valid JSON"]) { _ = try ExperimentSpec.decode(from: data, source: "bad.json") }
    }

    @Test func unreadableFilesAreNamed() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).json")
        expectThunniniError([missing.path, "cannot read", "no such file"]) { _ = try ExperimentSpec.load(from: missing) }
        expectThunniniError(["cannot read", "is a directory"]) {
            _ = try ExperimentSpec.load(from: FileManager.default.temporaryDirectory)
        }
    }

    @Test func validationErrorsOfALoadedFileNameTheFile() throws {
        var spec = smallSpec()
        spec.evalBatchSize = 0
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("exp-\(UUID().uuidString).json")
        try JSONOutput.encode(spec).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        expectThunniniError([url.path, "'eval_batch_size'"]) { _ = try ExperimentSpec.load(from: url) }
    }
}
