import Foundation
import Testing
@testable import Thunnini

let bundleNames = ["linear", "lstm", "transformer_lora", "transformer_bias_v3",
                   "datagen_categorical_v3", "datagen_dirichlet_v3", "datagen_mixture_v2"]

func bundleDirectory(_ name: String) -> URL {
    repositoryRoot().appendingPathComponent("Golden/crosscheck/thunnini-jax/\(name)")
}

@Suite struct CrosscheckBundleTests {
    @Test(arguments: bundleNames)
    func everyBundleLoads(name: String) throws {
        let bundle = try CrosscheckBundle.load(directory: bundleDirectory(name))
        #expect(bundle.name == name)
        #expect(bundle.tolerance.forward == Tolerance(atol: 1e-5, rtol: 1e-4))
        #expect(bundle.tolerance.grad == Tolerance(atol: 1e-5, rtol: 1e-3))
        #expect(bundle.tolerance.afterStep == Tolerance(atol: 1e-6, rtol: 1e-4))
        switch bundle.kind {
        case .predictor:
            let predictor = try #require(bundle.predictorConfig)
            #expect(bundle.torsoConfig != nil && bundle.datagenConfig == nil)
            #expect(Set(bundle.cases.keys) == ["none", "prepend", "simplex", "embedding"])
            #expect(bundle.tuning["prefix_soft"] == .init(prefixType: "embedding", steps: 3))
            let optimizer = try #require(bundle.optimizer)
            #expect(optimizer.adam == .init(b1: 0.9, b2: 0.999, eps: 1e-8, epsRoot: 0))
            #expect(optimizer.chain == ["clip_by_global_norm", "adam"])
            let sequences = try bundle.array("sequences")
            #expect(sequences.shape.last == predictor.tokenDimensionality)
            #expect(try bundle.array("tuning/batches").shape == [3] + sequences.shape)
        case .datagen:
            let config = try #require(bundle.datagenConfig)
            #expect(bundle.predictorConfig == nil && bundle.cases.isEmpty && bundle.tuning.isEmpty)
            #expect(try bundle.array("sequences").shape == [config.batchSize, config.sequenceLength, config.vocabSize])
            #expect(try bundle.array("bayes_instant_losses").shape == [config.batchSize, config.sequenceLength])
        }
    }

    @Test func predictorBundleDetails() throws {
        let bundle = try CrosscheckBundle.load(directory: bundleDirectory("transformer_bias_v3"))
        #expect(bundle.optimizer?.learningRate == 0.005 && bundle.optimizer?.maxGradNorm == 0.05)
        guard case .transformer(let torso) = bundle.torsoConfig else {
            Issue.record("expected a transformer torso")
            return
        }
        #expect(torso.numAttentionHeads == 4 && torso.useBias && !torso.normalizeQK && torso.wideningFactor == 2)
        #expect(try bundle.array("case/none/loss").shape == [])
    }

    /// A writable copy of a bundle with `edit` applied to its bundle.json text.
    func brokenCopy(of name: String, editJSON: (inout [String: Any]) -> Void = { _ in },
                    editArrays: (inout [String: Tensor]) -> Void = { _ in }) throws -> URL {
        let directory = try makeTemporaryDirectory()
        let source = bundleDirectory(name)
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("bundle.json"))) as! [String: Any]
        editJSON(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("bundle.json"))
        var arrays = try NPZ.read(source.appendingPathComponent("arrays.npz"))
        editArrays(&arrays)
        try NPZ.write(arrays, to: directory.appendingPathComponent("arrays.npz"))
        return directory
    }

    @Test func rejectsWrongFormatAndKind() throws {
        let wrongFormat = try brokenCopy(of: "datagen_mixture_v2") { $0["format"] = "thunnini-crosscheck/2" }
        expectThunniniError(["bundle.json", "thunnini-crosscheck/2", "thunnini-crosscheck/1"]) {
            _ = try CrosscheckBundle.load(directory: wrongFormat)
        }
        let wrongKind = try brokenCopy(of: "datagen_mixture_v2") { $0["kind"] = "optimizer" }
        expectThunniniError(["bundle.json", "'optimizer'", "predictor"]) { _ = try CrosscheckBundle.load(directory: wrongKind) }
    }

    @Test func rejectsMissingListedArray() throws {
        let directory = try brokenCopy(of: "datagen_mixture_v2") { $0.removeValue(forKey: "bayes_log_probs") }
        expectThunniniError(["arrays.npz", "'bayes_log_probs'", "missing"]) { _ = try CrosscheckBundle.load(directory: directory) }
    }

    @Test func rejectsWrongShape() throws {
        let directory = try brokenCopy(of: "datagen_mixture_v2", editArrays: {
            $0["sequences"] = $0["sequences"]!.reshaped([30, 8, 2])
        })
        expectThunniniError(["'sequences'", "[30, 8, 2]", "[8, 30, 2]"]) { _ = try CrosscheckBundle.load(directory: directory) }
    }

    @Test func rejectsUnlistedArray() throws {
        let directory = try brokenCopy(of: "datagen_mixture_v2", editArrays: { $0["stray"] = Tensor(scalar: 1) })
        expectThunniniError(["'stray'", "not listed"]) { _ = try CrosscheckBundle.load(directory: directory) }
    }

    @Test func rejectsInvalidConfigNamingTheSection() throws {
        let directory = try brokenCopy(of: "datagen_mixture_v2") { json in
            var config = json["datagen_config"] as! [String: Any]
            config["mixing_weights"] = [0.5, 0.6]
            json["datagen_config"] = config
        }
        expectThunniniError(["bundle.json", "datagen_config", "'mixing_weights'"]) { _ = try CrosscheckBundle.load(directory: directory) }
        let missingKey = try brokenCopy(of: "datagen_mixture_v2") { json in
            var tolerance = json["tolerance"] as! [String: Any]
            tolerance.removeValue(forKey: "grad")
            json["tolerance"] = tolerance
        }
        expectThunniniError(["bundle.json", "missing key 'tolerance.grad'"]) { _ = try CrosscheckBundle.load(directory: missingKey) }
    }

    @Test func missingDirectoryIsAClearError() {
        expectThunniniError(["bundle.json", "cannot read"]) {
            _ = try CrosscheckBundle.load(directory: URL(fileURLWithPath: "/nonexistent/bundle"))
        }
    }
}

@Suite struct ArrayComparisonTests {
    let tolerance = Tolerance(atol: 1e-5, rtol: 1e-3)

    @Test func toleranceIsAbsolutePlusRelativeToTheReference() {
        #expect(tolerance.accepts(actual: 1000 + 1.00001 - 1e-9, expected: 1000))  // 1e-5 + 1e-3 * 1000 = 1.00001
        #expect(!tolerance.accepts(actual: 1000 + 1.0001, expected: 1000))
        #expect(tolerance.accepts(actual: 1e-5, expected: 0))
        #expect(!tolerance.accepts(actual: 2e-5, expected: 0))
        #expect(tolerance.accepts(actual: .nan, expected: .nan))
        #expect(!tolerance.accepts(actual: .nan, expected: 1))
        #expect(!tolerance.accepts(actual: .infinity, expected: -.infinity))
    }

    @Test func reportsWorstElement() {
        let expected = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        var actual = expected
        actual[0, 1] += 1e-4   // allowed 2.01e-3: inside
        actual[1, 2] += 1e-2   // allowed 6.01e-3: outside, the worst
        let result = ArrayComparison.compare(name: "x", actual: actual, expected: expected, tolerance: tolerance)
        #expect(!result.passed)
        #expect(result.worstIndex == [1, 2])
        #expect(abs(result.maxAbsError - 1e-2) < 1e-12)
        #expect(abs(result.maxRelError - 1e-2 / 6) < 1e-12)
        #expect(result.note == nil)
    }

    @Test func passesWithinTolerance() {
        let expected = Tensor(shape: [3], storage: [0, -1, 10])
        let actual = Tensor(shape: [3], storage: [1e-6, -1.0005, 10.001])
        let result = CrosscheckBundle.compare(name: "y", actual: actual, expected: expected, tolerance: tolerance)
        #expect(result.passed)
        #expect(result.worstIndex == [1])
    }

    @Test func shapeMismatchFailsWithNote() {
        let result = ArrayComparison.compare(name: "z", actual: Tensor(shape: [2, 3]), expected: Tensor(shape: [3, 2]),
                                             tolerance: tolerance)
        #expect(!result.passed)
        #expect(result.note?.contains("shape mismatch") == true)
        #expect(result.summary.contains("FAIL z"))
    }
}
