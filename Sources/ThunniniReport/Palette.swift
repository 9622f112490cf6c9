import Thunnini

/// One colour per method across every figure, by what the method is (names
/// of tuning configs are the user's): prefix methods in blues and greens,
/// weight methods in oranges and reds, baselines in greys and black. The
/// groups differ in hue (blue vs orange is safe for the common colour-vision
/// deficiencies) and the members of a group in lightness.
public enum Palette {
    /// What kind of method a name in the results is.
    public enum Group: String, CaseIterable, Sendable {
        case prefix = "prefix tuning", weights = "weight tuning", baselines = "baselines"
    }

    static let prefixColors: [TuningMethod: String] = [
        .prefixSimplex: "#4a90d9", .prefixReal: "#17a2b8", .prefixSoft: "#1a9850",
    ]
    static let hardPrefixColor = "#0b2e6b"
    static let weightColors: [TuningMethod: String] = [
        .fullParameters: "#d73027", .loraFinetune: "#f46d43", .embedding: "#fdae61",
        .unembedding: "#a50026", .embeddingUnembedding: "#e08214",
    ]
    static let baselineColors: [String: String] = [
        Baseline.targetBayes.rawValue: "#000000", Baseline.evalBayes.rawValue: "#000000",
        Baseline.groundTruth.rawValue: "#000000", Baseline.preBayes.rawValue: "#5a5a5a",
        Baseline.preBayesPT.rawValue: "#5a5a5a", Baseline.noTuning.rawValue: "#8c8c8c",
        Baseline.randomPF.rawValue: "#b5b5b5", Baseline.untrained.rawValue: "#c8c8c8",
    ]

    /// The group of `method` in an experiment.
    public static func group(of method: String, in spec: ExperimentSpec) -> Group {
        if method == "HardPT" { return .prefix }
        if let config = spec.tuningConfigs.first(where: { $0.name == method }) {
            return config.config.tuningMethod.isPrefixMethod ? .prefix : .weights
        }
        return .baselines
    }

    /// The colour of `method` in an experiment.
    public static func color(of method: String, in spec: ExperimentSpec) -> String {
        if method == "HardPT" { return hardPrefixColor }
        if let config = spec.tuningConfigs.first(where: { $0.name == method }) {
            let m = config.config.tuningMethod
            return prefixColors[m] ?? weightColors[m] ?? "#7f3c8d"
        }
        return baselineColors[method] ?? "#7f7f7f"
    }

    /// Dash pattern of a method's sampled curves: dotted for the baselines
    /// that are a prefix on a Bayes predictor or the oracle, solid otherwise
    /// (dashed is reserved for exact theory curves).
    public static func dash(of method: String) -> [Double]? {
        method == Baseline.preBayesPT.rawValue || method == Baseline.groundTruth.rawValue ? [1.5, 2.5] : nil
    }

    /// The stroke of a method's median curve.
    public static func stroke(of method: String, in spec: ExperimentSpec, width: Double = 2) -> SVGDocument.Stroke {
        .init(color: color(of: method, in: spec), width: width, dash: dash(of: method))
    }
}
