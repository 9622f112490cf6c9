import Thunnini

/// One colour and line style per method across every figure, by what the
/// method is (names of tuning configs are the user's): prefix methods in
/// blues and greens, weight methods in oranges, reds and pink, baselines in
/// black, greys and purples. The groups differ in hue (blue vs orange is safe
/// for the common colour-vision deficiencies); any two methods differ in
/// greyscale lightness or line style (Docs/report.md lists the palette).
public enum Palette {
    /// What kind of method a name in the results is.
    public enum Group: String, CaseIterable, Sendable {
        case prefix = "prefix tuning", weights = "weight tuning", baselines = "baselines"
    }

    /// Line styles besides solid. Dashed ([7, 4]) is reserved for exact
    /// theory curves and dotted for markers and the ground truth.
    static let dashDot: [Double] = [6, 2, 1.5, 2], dashDotDot: [Double] = [6, 2, 1.5, 2, 1.5, 2], longShort: [Double] = [9, 3, 3, 3]

    /// Colour and line style per method. Chosen so that any two methods that
    /// can share a figure differ in greyscale lightness by at least
    /// `minimumLightnessStep` or in line style (tested), and in hue by group.
    static let prefixStyles: [TuningMethod: (color: String, dash: [Double]?)] = [
        .prefixSimplex: ("#6baed6", nil), .prefixReal: ("#2171b5", dashDot), .prefixSoft: ("#006d2c", nil),
    ]
    static let hardPrefixColor = "#081d58"
    static let weightStyles: [TuningMethod: (color: String, dash: [Double]?)] = [
        .fullParameters: ("#f03b20", nil), .loraFinetune: ("#f768a1", longShort), .embedding: ("#fdae61", nil),
        .unembedding: ("#8c510a", dashDotDot), .embeddingUnembedding: ("#e08214", dashDotDot),
    ]
    static let baselineStyles: [String: (color: String, dash: [Double]?)] = [
        Baseline.targetBayes.rawValue: ("#000000", nil), Baseline.evalBayes.rawValue: ("#000000", nil),
        Baseline.groundTruth.rawValue: ("#000000", [1.5, 2.5]), Baseline.preBayes.rawValue: ("#762a83", longShort),
        Baseline.preBayesPT.rawValue: ("#c2a5cf", dashDot), Baseline.noTuning.rawValue: ("#737373", longShort),
        Baseline.randomPF.rawValue: ("#bdbdbd", dashDotDot), Baseline.untrained.rawValue: ("#d9d9d9", dashDot),
    ]
    /// The N_tune / N_train / N_eval marker lines.
    static let markerColor = "#999999"
    /// Lightness (0-255, the Rec. 601 luma of the colour) two methods of the same line style differ by at least.
    static let minimumLightnessStep = 30.0

    /// Rec. 601 luma of a `#rrggbb` colour, 0-255: how light it prints in greyscale.
    static func lightness(_ hex: String) -> Double {
        let digits = Array(hex.dropFirst())
        func channel(_ i: Int) -> Double { Double(Int(String(digits[i..<(i + 2)]), radix: 16) ?? 0) }
        return 0.299 * channel(0) + 0.587 * channel(2) + 0.114 * channel(4)
    }

    static func style(of method: String, in spec: ExperimentSpec) -> (color: String, dash: [Double]?) {
        if method == "HardPT" { return (hardPrefixColor, longShort) }
        if let config = spec.tuningConfigs.first(where: { $0.name == method }) {
            let m = config.config.tuningMethod
            return prefixStyles[m] ?? weightStyles[m] ?? ("#7f3c8d", nil)
        }
        return baselineStyles[method] ?? ("#7f7f7f", nil)
    }

    /// The group of `method` in an experiment.
    public static func group(of method: String, in spec: ExperimentSpec) -> Group {
        if method == "HardPT" { return .prefix }
        if let config = spec.tuningConfigs.first(where: { $0.name == method }) {
            return config.config.tuningMethod.isPrefixMethod ? .prefix : .weights
        }
        return .baselines
    }

    /// The colour of `method` in an experiment.
    public static func color(of method: String, in spec: ExperimentSpec) -> String { style(of: method, in: spec).color }

    /// The line style of a method's sampled curves (nil: solid).
    public static func dash(of method: String, in spec: ExperimentSpec) -> [Double]? { style(of: method, in: spec).dash }

    /// The stroke of a method's median curve.
    public static func stroke(of method: String, in spec: ExperimentSpec, width: Double = 2) -> SVGDocument.Stroke {
        .init(color: color(of: method, in: spec), width: width, dash: dash(of: method, in: spec))
    }

    /// The stroke of a method's exact theory curve: its colour, dashed.
    public static func exactStroke(of method: String, in spec: ExperimentSpec) -> SVGDocument.Stroke {
        .init(color: color(of: method, in: spec), width: 1.6, dash: [7, 4])
    }
}
