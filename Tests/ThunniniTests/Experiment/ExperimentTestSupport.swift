import Foundation
@testable import Thunnini

/// The package's root directory (this file is Tests/ThunniniTests/Experiment/...).
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// An example experiment file from Docs/examples.
func exampleURL(_ name: String) -> URL {
    packageRoot.appendingPathComponent("Docs/examples/\(name)")
}

/// A small valid experiment built in code, for the validation tests to break one field at a time.
func smallSpec() -> ExperimentSpec {
    let mixture = DataGeneratorConfig.mixtureOfCategoricals(.init(
        batchSize: 4, sequenceLength: 6, vocabSize: 2, mixingWeights: [0.5, 0.5], biases: [[0.2, 0.8], [0.8, 0.2]]))
    let coins = DataGeneratorConfig.dirichletCategorical(.init(batchSize: 4, sequenceLength: 6, vocabSize: 2, alphas: [1, 1]))
    func tuning(_ method: TuningMethod, prefix: Bool) -> TuningConfig {
        TuningConfig(numTuningSteps: 2, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 1, prefixInitSeed: 2,
                     tuningMethod: method, numTuningRepetitions: 2, prefixLength: prefix ? 2 : nil,
                     prefixInitMethod: prefix ? .oneHot : nil)
    }
    return ExperimentSpec(
        name: "small",
        predictorConfig: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 8),
        torsoConfig: .transformer(TransformerTorsoConfig(hiddenSizes: [8], numAttentionHeads: 2, useLoRA: true)),
        pretraining: PretrainingSpec(dataConfig: coins, trainingConfig: TrainingConfig(
            numTrainingSteps: 3, learningRate: 1e-3, maxGradNorm: 1, dataGenSeed: 0, predictorInitSeed: 0)),
        tuningDataConfig: mixture,
        tuningConfigs: [
            NamedTuningConfig(name: "RealPT", config: tuning(.prefixReal, prefix: true)),
            NamedTuningConfig(name: "SoftPT", config: tuning(.prefixSoft, prefix: true)),
            NamedTuningConfig(name: "FullWT", config: tuning(.fullParameters, prefix: false)),
            NamedTuningConfig(name: "LoRAWT", config: tuning(.loraFinetune, prefix: false)),
        ],
        hardPrefix: HardPrefixSpec(prefixLength: 2, numSequences: 8, dataGenSeed: 5),
        evalDataConfigs: [NamedDataConfig(name: "Mixture", config: mixture), NamedDataConfig(name: "Coins", config: coins)],
        baselines: Baseline.allCases.filter { $0 != .untrained })
}

/// The JSON text of `spec` as a mutable dictionary, to corrupt for decoding tests.
func jsonObject(_ spec: ExperimentSpec) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: JSONOutput.encode(spec)) as! [String: Any]
}

/// Decodes a JSON object (as from `jsonObject`) as an experiment.
func decodeSpec(_ object: [String: Any]) throws -> ExperimentSpec {
    try ExperimentSpec.decode(from: JSONSerialization.data(withJSONObject: object), source: "test.json")
}
