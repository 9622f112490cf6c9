import Foundation
import Testing
@testable import Thunnini

/// Bundles written by `CrosscheckExport` (what `thunnini-ref export` writes):
/// they read back through the cross-check bit for bit, a one-element change
/// is caught and located, and for the original's configurations they agree
/// with the original's own arrays.
@Suite final class ExportRoundTripTests {
    let scratch: URL

    init() throws { scratch = try makeTemporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    /// Writes `bundle` as `thunnini-ref export` does and returns its directory.
    func written(_ bundle: CrosscheckBundle) throws -> URL {
        let directory = scratch.appendingPathComponent(UUID().uuidString)
        let output = try AtomicOutputDirectory(destination: directory)
        try bundle.write(to: output)
        try output.commit()
        return directory
    }

    func vector(_ name: String) throws -> CrosscheckBundle {
        try #require(GoldenRegistry.testVectors.first { $0.name == name }).produce()
    }

    /// Every torso (1 and 2 layers, LoRA on and off, V = 2 and 3) and every
    /// generator: the written bundle passes at zero tolerance with nothing
    /// left uncompared. Catches a writer that narrows to float32, drops,
    /// renames or reshapes an array, or a bundle.json whose configs,
    /// optimizer, cases or methods do not reproduce the computation.
    @Test("exported bundles pass their own round trip bit for bit", arguments: GoldenRegistry.testVectors.map(\.name))
    func roundTrip(name: String) throws {
        let bundle = try vector(name)
        let report = try Crosscheck.run(directory: written(bundle), tolerance: .exact)
        #expect(report.passed(requireAll: true), "\(report.comparisons.filter { !$0.passed }.map(\.summary)) uncompared: \(report.uncompared)")
        #expect(report.uncompared.isEmpty)
        // Everything but the inputs was compared.
        let inputs = bundle.arrays.keys.filter {
            $0.hasPrefix("params/") || $0 == "sequences" || $0 == "tuning/batches" || ($0.hasPrefix("case/") && $0.hasSuffix("/prefix"))
        }
        #expect(report.comparisons.count == bundle.arrays.count - (bundle.kind == .predictor ? inputs.count : 1))
    }

    /// Perturbing one element by 1e-9 fails exactly that array, at that index.
    /// (Under the bundle's own float64 tolerance, atol 1e-9 + rtol 1e-7 |b|,
    /// such a change would pass: this is what `--exact` is for.)
    @Test("a one-element change of 1e-9 is caught and located", arguments: [
        ("lstm_2layer_v2", "case/prepend/states/layer1_cell", [1, 2, 0]),
        ("transformer_1layer_lora_v2", "tuning/lora_finetune/grad/params/TransformerPredictorTorso_0/MultiheadAttention_0/query/LoRA_out_query/kernel", [1, 3]),
        ("linear_1layer_v2", "tuning/embedding/after_step2/params/embedding/bias", [2]),
        ("transformer_2layer_v3", "tuning/prefix_soft/after_step1/prefix", [1, 0]),
        ("datagen_dirichlet_v3", "expected_instant_regret", [5]),
        ("datagen_mixture_v2", "bayes_log_probs", [2, 7, 1]),
    ])
    func corruption(name: String, array: String, index: [Int]) throws {
        var bundle = try vector(name)
        var value = try #require(bundle.arrays[array])
        value.storage[value.offset(index)] += 1e-9
        bundle.arrays[array] = value
        let report = try Crosscheck.run(directory: written(bundle), tolerance: .exact)
        let failing = report.comparisons.filter { !$0.passed }
        #expect(failing.map(\.name) == [array])
        #expect(failing.first?.worstIndex == index)
        #expect(failing.first?.summary.contains("\(array): max abs") == true)
        #expect(!report.passed(requireAll: true))
        #expect(try Crosscheck.run(directory: written(bundle)).passed(requireAll: true),
                "the recorded float64 tolerance accepts a 1e-9 change")
    }

    @Test func bundleJSONKeepsTheOriginalsKeysAndOneLinePerArray() throws {
        let bundle = try vector("transformer_1layer_lora_v2")
        let text = String(decoding: try bundle.encodedJSON(), as: UTF8.self)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(json.keys) == ["arrays", "cases", "format", "kind", "loss", "name", "optimizer", "predictor_config", "source",
                                   "tolerance", "torso_config", "tuning"])
        #expect(json["format"] as? String == "thunnini-crosscheck/1")
        #expect(text.contains("\"case/none/logits\" : [2, 4, 2],\n"))
        #expect(text.contains("\"case/none/loss\" : [],\n"))
        #expect(text.contains("\"hidden_sizes\" : [4],\n"))
        #expect(text.contains("\"chain\" : [\n"))  // lists of strings keep their layout
        // Two productions are byte-identical.
        #expect(try vector("transformer_1layer_lora_v2").encodedJSON() == bundle.encodedJSON())
        #expect(try NPZ.encode(vector("lstm_1layer_v3").arrays, compressed: true) == NPZ.encode(vector("lstm_1layer_v3").arrays, compressed: true))
    }

    /// Seeded inputs: every parameter entry non-zero (zero-initialised biases
    /// and LoRA factors included, or their gradients would test nothing),
    /// one-hot sequences and batches, each token value used.
    @Test func seededInputsAreNonZeroAndOneHot() throws {
        let predictor = try Predictor(config: PredictorConfig(tokenDimensionality: 3, embeddingDimensionality: 4),
                                      torsoConfig: .transformer(TransformerTorsoConfig(hiddenSizes: [4], numAttentionHeads: 2,
                                                                                       useBias: true, useLoRA: true, reducedRank: 2)))
        let inputs = CrosscheckExport.randomPredictorInputs(predictor: predictor, batchSize: 4, sequenceLength: 6,
                                                            prefixLength: 2, steps: 3, seed: 5)
        let initial = predictor.initialParameters(seed: 5)
        #expect(initial.values.contains { $0.key.contains("LoRA_out") && $0.value.storage.allSatisfy { $0 == 0 } })
        for (path, value) in inputs.parameters.values {
            #expect(value.storage.allSatisfy { $0 != 0 }, "\(path) has a zero entry")
        }
        for tokens in [inputs.sequences, inputs.batches] {
            let v = 3, rows = tokens.count / v
            var used = Set<Int>()
            for row in 0..<rows {
                let slice = tokens.storage[(row * v)..<((row + 1) * v)]
                #expect(slice.sorted() == [0, 0, 1])
                used.insert(slice.firstIndex(of: 1)! - row * v)
            }
            #expect(used == [0, 1, 2])
        }
        #expect(inputs.batches.shape == [3, 4, 6, 3])
        #expect(inputs.prefixes[.embedding]?.shape == [2, 4] && inputs.prefixes[.simplex]?.shape == [2, 3])
        // The same seed gives the same inputs; another seed other ones.
        let again = CrosscheckExport.randomPredictorInputs(predictor: predictor, batchSize: 4, sequenceLength: 6, prefixLength: 2, steps: 3, seed: 5)
        let other = CrosscheckExport.randomPredictorInputs(predictor: predictor, batchSize: 4, sequenceLength: 6, prefixLength: 2, steps: 3, seed: 6)
        #expect(again.parameters == inputs.parameters && again.batches == inputs.batches)
        #expect(other.parameters != inputs.parameters && other.sequences != inputs.sequences)
    }

    @Test func methodsAreCheckedAgainstTheTorso() throws {
        let lstm = TorsoConfig.lstm(LSTMTorsoConfig(hiddenSizes: [3]))
        let plain = TorsoConfig.transformer(TransformerTorsoConfig(hiddenSizes: [4], numAttentionHeads: 2))
        let lora = TorsoConfig.transformer(TransformerTorsoConfig(hiddenSizes: [4], numAttentionHeads: 2, useLoRA: true))
        #expect(try CrosscheckExport.parseMethods("all", for: lstm) == TuningMethod.allCases.filter { $0 != .loraFinetune })
        #expect(try CrosscheckExport.parseMethods("all", for: lora) == TuningMethod.allCases)
        #expect(try CrosscheckExport.parseMethods("prefix_soft, embedding", for: lstm) == [.prefixSoft, .embedding])
        expectThunniniError(["lora_finetune", "Transformer"]) { _ = try CrosscheckExport.parseMethods("lora_finetune", for: lstm) }
        expectThunniniError(["lora_finetune", "use_lora"]) { _ = try CrosscheckExport.parseMethods("full_parameters,lora_finetune", for: plain) }
        expectThunniniError(["unknown tuning method 'prefix'"]) { _ = try CrosscheckExport.parseMethods("prefix", for: lstm) }
        expectThunniniError(["listed twice"]) { _ = try CrosscheckExport.parseMethods("embedding,embedding", for: lstm) }
        let frozen = TorsoConfig.lstm(LSTMTorsoConfig(isTrainable: false, hiddenSizes: [3]))
        #expect(!(try CrosscheckExport.parseMethods("all", for: frozen)).contains(.fullParameters))
    }

    /// The exported expected instant regret of the source's own Bayes
    /// predictor is the brute-force one (`BruteForceOracle`: an expectation
    /// over all V^(n+1) sequences, minus the oracle's expected entropy) for
    /// every generator's vector: zero for a fixed coin, positive and
    /// decreasing for a Dirichlet prior, in between for a mixture.
    @Test(arguments: ["datagen_categorical_v2", "datagen_categorical_v3", "datagen_dirichlet_v2", "datagen_dirichlet_v3",
                      "datagen_mixture_v2", "datagen_mixture_v3"])
    func datagenExpectedRegret(name: String) throws {
        let bundle = try vector(name)
        let exported = try bundle.array("expected_instant_regret").storage
        let oracle = BruteForceOracle(try #require(bundle.datagenConfig))
        let losses = oracle.expectedInstantLosses(of: oracle, length: exported.count)
        for (n, value) in exported.enumerated() {
            let expected = losses[n] - oracle.expectedOracleEntropy
            #expect(abs(value - expected) <= 1e-12 * max(1, losses[n]), "\(name) n = \(n): \(value) vs \(expected)")
        }
        if name.hasPrefix("datagen_dirichlet") {
            #expect(exported.allSatisfy { $0 > 0 } && zip(exported, exported.dropFirst()).allSatisfy { $0 > $1 })
        }
    }
}

/// The original's bundles read the other way round: export with the
/// original's parameters, sequences, prefixes, batches and optimizer, and
/// compare our arrays with the original's under the original's tolerances.
@Suite struct ExportAgainstOriginalTests {
    /// Our export for the inputs and settings of `original`.
    static func exported(like original: CrosscheckBundle) throws -> CrosscheckBundle {
        let predictor = try Predictor(config: try #require(original.predictorConfig), torsoConfig: try #require(original.torsoConfig))
        let inputs = CrosscheckExport.PredictorInputs(
            parameters: ParameterTree(original.arrays.filter { $0.key.hasPrefix("params/") }),
            sequences: try original.array("sequences"),
            prefixes: [.prepend: try original.array("case/prepend/prefix"), .simplex: try original.array("case/simplex/prefix"),
                       .embedding: try original.array("case/embedding/prefix")],
            batches: try original.array("tuning/batches"))
        let optimizer = try #require(original.optimizer)
        let steps = Set(original.tuning.values.map(\.steps))
        #expect(steps.count == 1)
        return try CrosscheckExport.predictorBundle(
            name: original.name, source: "test", predictor: predictor, inputs: inputs,
            methods: TuningMethod.allCases.filter { original.tuning[$0.rawValue] != nil }, steps: try #require(steps.first),
            hyperparameters: .init(learningRate: optimizer.learningRate, maxGradNorm: optimizer.maxGradNorm, b1: optimizer.adam.b1,
                                   b2: optimizer.adam.b2, eps: optimizer.adam.eps, epsRoot: optimizer.adam.epsRoot))
    }

    /// Arrays of ours outside the original's tolerance (by the original's tolerance class).
    static func disagreements(ours: CrosscheckBundle, original: CrosscheckBundle) -> [String] {
        var failing: [String] = []
        for (name, expected) in original.arrays {
            let isGradient = name.contains("/grad") || name.hasSuffix("step_grad_norms_unclipped")
            let tolerance = name.contains("/after_step") ? original.tolerance.afterStep
                : (isGradient ? original.tolerance.grad : original.tolerance.forward)
            let comparison = ArrayComparison.compare(name: name, actual: ours.arrays[name] ?? Tensor(shape: [0]), expected: expected, tolerance: tolerance)
            if !comparison.passed { failing.append(name) }
        }
        return failing.sorted()
    }

    @Test("float64 original: every array of ours within atol 1e-9, rtol 1e-7", arguments: CompleteCrosscheckTests.float64Bundles)
    func float64Original(name: String) throws {
        let original = try CrosscheckBundle.load(directory: repositoryRoot().appendingPathComponent("Golden/crosscheck/thunnini-jax-f64/\(name)"))
        let ours = try Self.exported(like: original)
        // Same array names, hence same layout; shapes are checked by the comparison.
        #expect(Set(ours.arrays.keys) == Set(original.arrays.keys))
        #expect(ours.cases == original.cases && ours.tuning == original.tuning && ours.optimizer == original.optimizer)
        #expect(Self.disagreements(ours: ours, original: original) == [])
    }

    /// Against the float32 original, everything agrees within its tolerance
    /// except exactly the three after-step arrays that Docs/crosscheck.md
    /// shows to be float32 artefacts (the float64 original agrees with us there).
    @Test("float32 original: within its tolerance except the documented float32 artefacts", arguments: CrosscheckTests.predictorBundles)
    func float32Original(name: String) throws {
        let original = try CrosscheckBundle.load(directory: bundleDirectory(name))
        let ours = try Self.exported(like: original)
        #expect(Set(ours.arrays.keys) == Set(original.arrays.keys))
        let keyBias = "tuning/full_parameters/after_step%d/params/TransformerPredictorTorso_0/MultiheadAttention_0/key/key/bias"
        let artefacts: [String: [String]] = [
            "transformer_bias_v3": [String(format: keyBias, 1), String(format: keyBias, 3)],
            "transformer_lora": ["tuning/full_parameters/after_step3/params/TransformerPredictorTorso_0/Dense_1/kernel"],
        ]
        #expect(Self.disagreements(ours: ours, original: original) == (artefacts[name] ?? []))
    }
}
