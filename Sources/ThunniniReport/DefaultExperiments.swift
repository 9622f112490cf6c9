import Foundation
import Thunnini

/// The embedded default of `thunnini-ref report`: two experiment files
/// shipped as package resources (Sources/ThunniniReport/DefaultExperiments/),
/// the same pretrained LSTM tuned to a single coin and to a two-coin mixture
/// with every tuner (Docs/report.md, "The default").
public enum DefaultExperiments {
    /// The resource files, in report order.
    public static let fileNames = ["single-coin", "two-coin-mixture"]

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
