import Foundation
import Testing
@testable import Thunnini

/// The example experiments of Docs/examples load, validate, and carry the
/// notebooks' settings (values read off the notebooks' config cells).
@Suite struct ExperimentExampleTests {
    @Test(arguments: ["demo-notebook.json", "notebook-default.json", "smoke.json"])
    func exampleLoadsAndValidates(_ file: String) throws {
        let spec = try ExperimentSpec.load(from: exampleURL(file))
        try spec.validate()
    }

    @Test(arguments: ["demo-notebook.json", "notebook-default.json", "smoke.json"])
    func exampleRoundTripsThroughJSONOutput(_ file: String) throws {
        let spec = try ExperimentSpec.load(from: exampleURL(file))
        let encoded = try JSONOutput.encode(spec)
        let decoded = try ExperimentSpec.decode(from: encoded, source: file)
        #expect(decoded == spec)
        #expect(try JSONOutput.encode(decoded) == encoded)
    }

    @Test func experimentNotebookDefaults() throws {
        let spec = try ExperimentSpec.load(from: exampleURL("notebook-default.json"))
        #expect(spec.predictorConfig == PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 128))
        guard case .transformer(let torso) = spec.torsoConfig else {
            Issue.record("expected a Transformer torso")
            return
        }
        #expect(torso.hiddenSizes == [128] && torso.numAttentionHeads == 4 && torso.useLoRA && torso.reducedRank == 4)
        #expect(torso.isTrainable && !torso.useBias && torso.normalizeQK && torso.wideningFactor == 4)
        let training = try #require(spec.pretraining)
        #expect(training.dataConfig.generatorType == "Dirichlet-Categorical")
        #expect(training.dataConfig.batchSize == 256 && training.dataConfig.sequenceLength == 100)
        #expect(training.trainingConfig == TrainingConfig(numTrainingSteps: 1000, learningRate: 1e-3, maxGradNorm: 1,
                                                          dataGenSeed: 0, predictorInitSeed: 0))
        #expect(spec.tuningDataConfig == .mixtureOfCategoricals(.init(
            batchSize: 256, sequenceLength: 50, vocabSize: 2, mixingWeights: [0.5, 0.5], biases: [[0.2, 0.8], [0.8, 0.2]])))
        #expect(spec.tuningConfigs.map(\.name) == ["SimplexPT", "RealPT", "SoftPT", "FullWT", "LoRAWT", "EmbedWT", "UnembedWT", "Un+EmbedWT"])
        #expect(spec.tuningConfigs.map(\.config.tuningMethod) == [.prefixSimplex, .prefixReal, .prefixSoft, .fullParameters,
                                                                   .loraFinetune, .embedding, .unembedding, .embeddingUnembedding])
        for entry in spec.tuningConfigs {
            let config = entry.config
            #expect(config.numTuningSteps == 1000 && config.learningRate == 5e-3 && config.maxGradNorm == 1)
            #expect(config.dataGenSeed == 10 && config.prefixInitSeed == 11 && config.numTuningRepetitions == 10)
            #expect(config.iterateDatagenSeedOverRepetitions)
            let isPrefix = entry.name.hasSuffix("PT")
            #expect(config.prefixLength == (isPrefix ? 6 : nil))
            #expect(config.prefixInitMethod == (isPrefix ? .oneHot : nil))
        }
        #expect(spec.hardPrefix == HardPrefixSpec(enabled: true, prefixLength: 6, numSequences: 2048, dataGenSeed: 5))
        #expect(spec.evalDataConfigs.map(\.name) == ["Single Coin", "Two-Coin Mixture", "Random Coins"])
        #expect(spec.evalDataConfigs.allSatisfy { $0.config.batchSize == 2048 && $0.config.sequenceLength == 200 })
        #expect(spec.evalDatagenSeed == 0)
        #expect(spec.evalBatchSize == -1)
        #expect(Set(spec.baselines) == Set(Baseline.allCases.filter { $0 != .untrained }))
        #expect(spec.evalDataConfigs.map { spec.bayesLabel(for: $0) } == ["EvalBayes", "TargetBayes", "EvalBayes"])
    }

    @Test func demoNotebookSettings() throws {
        let spec = try ExperimentSpec.load(from: exampleURL("demo-notebook.json"))
        #expect(spec.predictorConfig == PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 16))
        #expect(spec.torsoConfig == .lstm(LSTMTorsoConfig(isTrainable: true, hiddenSizes: [64, 32])))
        let training = try #require(spec.pretraining)
        #expect(training.dataConfig == .dirichletCategorical(.init(batchSize: 128, sequenceLength: 50, vocabSize: 2, alphas: [1, 1])))
        #expect(training.trainingConfig == TrainingConfig(numTrainingSteps: 1000, learningRate: 5e-3, maxGradNorm: 1,
                                                          dataGenSeed: 0, predictorInitSeed: 0))
        let mixture = MixtureOfCategoricalsGeneratorConfig(batchSize: 128, sequenceLength: 50, vocabSize: 2,
                                                           mixingWeights: [0.25, 0.75], biases: [[0.2, 0.8], [0.8, 0.2]])
        #expect(spec.tuningDataConfig == .mixtureOfCategoricals(mixture))
        #expect(spec.tuningConfigs == [NamedTuningConfig(name: "SoftPT", config: TuningConfig(
            numTuningSteps: 1000, learningRate: 5e-3, maxGradNorm: 1, dataGenSeed: 10, prefixInitSeed: 10,
            tuningMethod: .prefixSoft, numTuningRepetitions: 1, prefixLength: 6, prefixInitMethod: .oneHot,
            iterateDatagenSeedOverRepetitions: false))])
        var evalMixture = mixture
        evalMixture.batchSize = 1024
        evalMixture.sequenceLength = 100
        #expect(spec.evalDataConfigs == [NamedDataConfig(name: "Two-Coin Mixture", config: .mixtureOfCategoricals(evalMixture))])
        #expect(spec.evalDatagenSeed == 1337)
        #expect(spec.hardPrefix == nil)
        #expect(spec.baselines.contains(.untrained) && spec.untrainedInitSeed == 815)
        #expect(spec.bayesLabel(for: spec.evalDataConfigs[0]) == "TargetBayes")
    }

    @Test func smokeIsSmall() throws {
        let spec = try ExperimentSpec.load(from: exampleURL("smoke.json"))
        let training = try #require(spec.pretraining)
        #expect(training.trainingConfig.numTrainingSteps <= 50)
        #expect(spec.tuningConfigs.allSatisfy { $0.config.numTuningSteps <= 10 })
        #expect(spec.evalDataConfigs.allSatisfy { $0.config.batchSize * $0.config.sequenceLength <= 1000 })
        // Every baseline is exercised.
        #expect(Set(spec.baselines) == Set(Baseline.allCases))
    }
}
