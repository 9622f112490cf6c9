import Foundation
import Testing
@testable import Thunnini

/// Asserts that `spec` fails validation naming the key path `field` (and any `fragments`).
func expectInvalidSpec(_ spec: ExperimentSpec, field: String, _ fragments: [String] = [],
                       sourceLocation: SourceLocation = #_sourceLocation) {
    expectThunniniError(["invalid config field '\(field)'"] + fragments, sourceLocation: sourceLocation) {
        try spec.validate()
    }
}

/// Validation: every config located by its key path, and the cross-field rules.
@Suite struct ExperimentValidationTests {
    @Test func smallSpecIsValid() throws {
        try smallSpec().validate()
    }

    @Test func perConfigErrorsAreLocated() {
        var spec = smallSpec()
        spec.tuningConfigs[1].config.learningRate = 0
        expectInvalidSpec(spec, field: "tuning_configs[SoftPT].config.learning_rate", ["must be > 0"])

        spec = smallSpec()
        spec.evalDataConfigs[1].config = .dirichletCategorical(.init(batchSize: 4, sequenceLength: 6, vocabSize: 2, alphas: [1, 0]))
        expectInvalidSpec(spec, field: "eval_data_configs[Coins].config.alphas[1]")

        spec = smallSpec()
        spec.pretraining!.trainingConfig.maxGradNorm = -1
        expectInvalidSpec(spec, field: "pretraining.training_config.max_grad_norm")

        spec = smallSpec()
        spec.predictorConfig.embeddingDimensionality = 0
        expectInvalidSpec(spec, field: "predictor_config.embedding_dimensionality")

        spec = smallSpec()
        spec.torsoConfig = .lstm(.init(hiddenSizes: []))
        expectInvalidSpec(spec, field: "torso_config.hidden_sizes")
    }

    @Test func vocabSizesMustMatchTheTokenDimensionality() {
        var spec = smallSpec()
        spec.evalDataConfigs[0].config = .categorical(.init(batchSize: 4, sequenceLength: 6, vocabSize: 3, biases: [0.2, 0.3, 0.5]))
        expectInvalidSpec(spec, field: "eval_data_configs[Mixture].config.vocab_size", ["token_dimensionality is 2"])

        spec = smallSpec()
        spec.tuningDataConfig = .categorical(.init(batchSize: 4, sequenceLength: 6, vocabSize: 3, biases: [0.2, 0.3, 0.5]))
        expectInvalidSpec(spec, field: "tuning_data_config.vocab_size")

        spec = smallSpec()
        spec.pretraining!.dataConfig = .dirichletCategorical(.init(batchSize: 4, sequenceLength: 6, vocabSize: 3, alphas: [1, 1, 1]))
        expectInvalidSpec(spec, field: "pretraining.data_config.vocab_size")
    }

    @Test func headsMustDivideTheEmbedding() {
        var spec = smallSpec()
        spec.predictorConfig.embeddingDimensionality = 9
        expectInvalidSpec(spec, field: "torso_config.num_attention_heads", ["does not divide"])
    }

    @Test func prefixMethodsNeedAPrefix() {
        var spec = smallSpec()
        spec.tuningConfigs[0].config.prefixLength = 0
        expectInvalidSpec(spec, field: "tuning_configs[RealPT].config.prefix_length", [">= 1"])
        spec = smallSpec()
        spec.tuningConfigs[1].config.prefixLength = nil
        expectInvalidSpec(spec, field: "tuning_configs[SoftPT].config.prefix_length", ["required"])
        spec = smallSpec()
        spec.tuningConfigs[0].config.prefixInitMethod = nil
        expectInvalidSpec(spec, field: "tuning_configs[RealPT].config.prefix_init_method")
    }

    @Test func weightMethodsNeedWhatTheyTune() {
        var spec = smallSpec()
        spec.torsoConfig = .transformer(TransformerTorsoConfig(isTrainable: false, hiddenSizes: [8], numAttentionHeads: 2, useLoRA: true))
        spec.baselines = []
        expectInvalidSpec(spec, field: "tuning_configs[FullWT].config.tuning_method", ["trainable"])

        spec = smallSpec()
        spec.torsoConfig = .transformer(TransformerTorsoConfig(hiddenSizes: [8], numAttentionHeads: 2, useLoRA: false))
        expectInvalidSpec(spec, field: "tuning_configs[LoRAWT].config.tuning_method", ["use_lora"])

        spec = smallSpec()
        spec.torsoConfig = .lstm(.init(hiddenSizes: [4]))
        expectInvalidSpec(spec, field: "tuning_configs[LoRAWT].config.tuning_method", ["Transformer"])
    }

    @Test func namesMustBeUniqueUsableAndUnreserved() {
        var spec = smallSpec()
        spec.tuningConfigs[2].name = "RealPT"
        expectInvalidSpec(spec, field: "tuning_configs[2].name", ["used twice"])
        spec = smallSpec()
        spec.tuningConfigs[0].name = ""
        expectInvalidSpec(spec, field: "tuning_configs[0].name", ["empty"])
        spec = smallSpec()
        spec.tuningConfigs[0].name = "NoTuning"
        expectInvalidSpec(spec, field: "tuning_configs[0].name", ["reserved"])
        spec = smallSpec()
        spec.tuningConfigs[0].name = "HardPT"
        expectInvalidSpec(spec, field: "tuning_configs[0].name", ["reserved"])
        for bad in ["a/b", "..", ".hidden", " padded", "tab\there"] {
            spec = smallSpec()
            spec.evalDataConfigs[1].name = bad
            expectInvalidSpec(spec, field: "eval_data_configs[1].name")
        }
        spec = smallSpec()
        spec.evalDataConfigs[1].name = "Mixture"
        expectInvalidSpec(spec, field: "eval_data_configs[1].name", ["used twice"])
        // A tuning method and an evaluation source may share a name (different outputs).
        spec = smallSpec()
        spec.evalDataConfigs[1].name = "RealPT"
        #expect(throws: Never.self) { try spec.validate() }
        spec = smallSpec()
        spec.name = "  "
        expectInvalidSpec(spec, field: "name")
    }

    @Test func evaluationSettings() {
        var spec = smallSpec()
        spec.evalDataConfigs = []
        expectInvalidSpec(spec, field: "eval_data_configs", ["at least one"])
        spec = smallSpec()
        spec.evalBatchSize = -2
        expectInvalidSpec(spec, field: "eval_batch_size")
        spec = smallSpec()
        spec.evalBatchSize = 3
        #expect(throws: Never.self) { try spec.validate() }
        spec = smallSpec()
        spec.evalDatagenSeed = -1
        expectInvalidSpec(spec, field: "eval_datagen_seed")
    }

    @Test func seedsMustBeNonNegative() {
        var spec = smallSpec()
        spec.tuningConfigs[3].config.prefixInitSeed = -5
        expectInvalidSpec(spec, field: "tuning_configs[LoRAWT].config.prefix_init_seed")
        spec = smallSpec()
        spec.pretraining!.trainingConfig.dataGenSeed = -1
        expectInvalidSpec(spec, field: "pretraining.training_config.data_gen_seed")
    }

    @Test func pretrainingOrAnInitialisationSeed() throws {
        var spec = smallSpec()
        spec.pretraining = nil
        spec.baselines = [.noTuning]
        expectInvalidSpec(spec, field: "predictor_init_seed", ["required"])
        spec.predictorInitSeed = 7
        try spec.validate()
        spec = smallSpec()
        spec.predictorInitSeed = 7
        expectInvalidSpec(spec, field: "predictor_init_seed", ["pretraining.training_config.predictor_init_seed"])
    }

    @Test func hardPrefixSettings() throws {
        var spec = smallSpec()
        spec.hardPrefix!.prefixLength = 0
        expectInvalidSpec(spec, field: "hard_prefix.prefix_length")
        spec = smallSpec()
        spec.hardPrefix!.prefixLength = 17  // 2^17 candidates
        expectInvalidSpec(spec, field: "hard_prefix.prefix_length", ["2^17", "exceed"])
        spec.hardPrefix!.prefixLength = 16  // 2^16 is the limit itself
        #expect(throws: Never.self) { try spec.validate() }
        // One limit: what validation accepts, the search accepts.
        #expect(ExperimentSpec.maxHardPrefixCandidates == HardPrefixSearch.candidateLimit)
        #expect(try HardPrefixSearch.candidates(vocabSize: 2, length: 16).count == 1 << 16)
        #expect(throws: ThunniniError.self) { _ = try HardPrefixSearch.candidates(vocabSize: 2, length: 17) }
        spec = smallSpec()
        spec.hardPrefix!.numSequences = 0
        expectInvalidSpec(spec, field: "hard_prefix.num_sequences")
    }

    /// K = 17 with V = 2 (2^17 candidates, above the search's limit) is
    /// refused when the runner is made, before any work: with a billion
    /// pretraining steps the refusal still comes at once. (Before the limit
    /// was one, validation accepted 2^20 and the search refused 2^17 only
    /// after pretraining and every tuning run.)
    @Test func oversizedHardPrefixFailsBeforePretraining() {
        var spec = smallSpec()
        spec.pretraining!.trainingConfig.numTrainingSteps = 1_000_000_000
        spec.hardPrefix!.prefixLength = 17
        let start = Date()
        #expect(throws: ThunniniError.self) { _ = try ExperimentRunner(spec: spec, reportsProgress: false).run() }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func baselinesNeedTheirInputs() throws {
        var spec = smallSpec()
        spec.baselines = [.noTuning, .noTuning]
        expectInvalidSpec(spec, field: "baselines[1]", ["twice"])

        spec = smallSpec()
        spec.pretraining = nil
        spec.predictorInitSeed = 0
        spec.baselines = [.preBayes]
        expectInvalidSpec(spec, field: "baselines[0]", ["pretrained"])

        spec = smallSpec()
        spec.torsoConfig = .transformer(TransformerTorsoConfig(isTrainable: false, hiddenSizes: [8], numAttentionHeads: 2, useLoRA: true))
        spec.tuningConfigs.removeAll { $0.name == "FullWT" }
        spec.baselines = [.preBayesPT]
        expectInvalidSpec(spec, field: "baselines[0]", ["pretrained"])

        spec = smallSpec()
        spec.hardPrefix = nil
        spec.baselines = [.preBayesPT]
        expectInvalidSpec(spec, field: "baselines[0]", ["hard_prefix"])
        // With search settings but HardPT itself disabled, PreBayesPT is fine.
        spec.hardPrefix = HardPrefixSpec(enabled: false, prefixLength: 2)
        try spec.validate()

        spec = smallSpec()
        spec.tuningConfigs.removeAll { $0.config.tuningMethod == .prefixReal }
        spec.baselines = [.targetBayes, .randomPF]
        expectInvalidSpec(spec, field: "baselines[1]", ["prefix_real"])

        spec = smallSpec()
        spec.baselines = [.untrained]
        expectInvalidSpec(spec, field: "untrained_init_seed", ["required"])
        spec.untrainedInitSeed = 815
        try spec.validate()
        spec.baselines = []
        expectInvalidSpec(spec, field: "untrained_init_seed", ["not listed"])
    }

    @Test func bayesLabelComparesTheSourceNotItsSizes() {
        let spec = smallSpec()
        var sameSource = spec.evalDataConfigs[0]
        if case .mixtureOfCategoricals(var config) = sameSource.config {
            config.batchSize = 999
            config.sequenceLength = 77
            sameSource.config = .mixtureOfCategoricals(config)
        }
        #expect(spec.bayesLabel(for: sameSource) == "TargetBayes")
        #expect(spec.bayesLabel(for: spec.evalDataConfigs[1]) == "EvalBayes")
        var otherWeights = spec.evalDataConfigs[0]
        otherWeights.config = .mixtureOfCategoricals(.init(batchSize: 4, sequenceLength: 6, vocabSize: 2,
                                                           mixingWeights: [0.25, 0.75], biases: [[0.2, 0.8], [0.8, 0.2]]))
        #expect(spec.bayesLabel(for: otherWeights) == "EvalBayes")
    }
}
