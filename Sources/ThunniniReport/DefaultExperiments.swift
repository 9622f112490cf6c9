import Foundation
import Thunnini

/// The embedded default of `thunnini-ref report`: four experiment files
/// shipped as package resources (Sources/ThunniniReport/DefaultExperiments/):
/// one pretrained LSTM tuned to a single coin and to a two-coin mixture with
/// every tuner, a pretrained Transformer tuned to the mixture (with LoRA),
/// and an untrained LSTM tuned to the single coin by prefixes (Docs/report.md,
/// "The default").
public enum DefaultExperiments {
    /// The resource files, in report order.
    public static let fileNames = ["lstm-single-coin", "lstm-two-coin-mixture", "transformer-two-coin-mixture", "untrained-lstm-single-coin"]

    /// The decoded, validated experiments.
    public static func load() throws -> [ExperimentSpec] {
        try fileNames.map { name in
            guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "DefaultExperiments") else {
                throw ThunniniError("the embedded default experiment '\(name).json' is missing from the package resources")
            }
            return try ExperimentSpec.load(from: url)
        }
    }
}

extension ExperimentSpec {
    /// This experiment with every seed increased by `offset`: pretraining data
    /// and initialisation, each tuning config's data and prefix seeds, the
    /// hard-prefix search, the evaluation sequences, the untrained baseline.
    /// `report --seed-offset K` runs the same experiments on another seed set,
    /// which is how the findings' robustness is checked (Docs/report.md).
    public func offsettingSeeds(by offset: Int) -> ExperimentSpec {
        var spec = self
        if var pretraining = spec.pretraining {
            pretraining.trainingConfig.dataGenSeed += offset
            pretraining.trainingConfig.predictorInitSeed += offset
            spec.pretraining = pretraining
        }
        spec.predictorInitSeed = spec.predictorInitSeed.map { $0 + offset }
        spec.tuningConfigs = spec.tuningConfigs.map { named in
            var named = named
            named.config.dataGenSeed += offset
            named.config.prefixInitSeed += offset
            return named
        }
        spec.hardPrefix?.dataGenSeed += offset
        spec.evalDatagenSeed += offset
        spec.untrainedInitSeed = spec.untrainedInitSeed.map { $0 + offset }
        return spec
    }
}
