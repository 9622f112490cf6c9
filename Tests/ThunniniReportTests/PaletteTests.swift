import Foundation
import Testing
@testable import Thunnini
@testable import ThunniniReport

/// The palette keeps every pair of methods apart in greyscale or line style,
/// and Docs/report.md lists it as the code has it.
@Suite struct PaletteTests {
    /// A spec with one tuning config per method, so that every method the
    /// report can draw has a style.
    func everyMethod() throws -> (ExperimentSpec, [String]) {
        var spec = try DefaultExperiments.load()[0]
        let methods: [(String, TuningMethod)] = [("SimplexPT", .prefixSimplex), ("RealPT", .prefixReal), ("SoftPT", .prefixSoft),
                                                  ("FullWT", .fullParameters), ("LoRAWT", .loraFinetune), ("EmbedWT", .embedding),
                                                  ("UnembedWT", .unembedding), ("Un+EmbedWT", .embeddingUnembedding)]
        let template = spec.tuningConfigs[0].config
        spec.tuningConfigs = methods.map { name, method in
            var c = template
            c.tuningMethod = method
            return .init(name: name, config: c)
        }
        let baselines = Baseline.allCases.map(\.rawValue).filter { $0 != Baseline.groundTruth.rawValue }
        return (spec, methods.map(\.0) + ["HardPT"] + baselines)
    }

    /// Any two methods that can share a figure differ in Rec. 601 lightness by
    /// at least `minimumLightnessStep` or in line style (TargetBayes and
    /// EvalBayes are one predictor under two labels, never in one figure).
    /// Catches a palette where, printed in grey, two curves look the same
    /// (e.g. PreBayes, NoTuning and PreBayesPT in near-identical greys).
    @Test func everyPairIsDistinctInGreyscaleOrLineStyle() throws {
        let (spec, methods) = try everyMethod()
        var clashes: [String] = []
        for (i, a) in methods.enumerated() {
            for b in methods[(i + 1)...] where Set([a, b]) != Set(["TargetBayes", "EvalBayes"]) {
                let sa = Palette.style(of: a, in: spec), sb = Palette.style(of: b, in: spec)
                let step = abs(Palette.lightness(sa.color) - Palette.lightness(sb.color))
                if sa.dash == sb.dash && step < Palette.minimumLightnessStep { clashes.append("\(a)/\(b) (\(Int(step)))") }
            }
        }
        #expect(clashes.isEmpty, "\(clashes)")
        // Dashed [7, 4] belongs to the exact curves only.
        #expect(methods.allSatisfy { Palette.dash(of: $0, in: spec) != [7, 4] })
    }

    /// The palette table of Docs/report.md is the code's palette: each row's
    /// colour and line style. Catches documentation left behind by a change.
    @Test func documentedPaletteMatchesTheCode() throws {
        let (spec, _) = try everyMethod()
        let doc = try String(contentsOf: reportPackageRoot.appendingPathComponent("Docs/report.md"), encoding: .utf8)
        let names: [[Double]?: String] = [nil: "solid", Palette.dashDot: "dash-dot", Palette.dashDotDot: "dash-dot-dot",
                                          Palette.longShort: "long-short", [1.5, 2.5]: "dotted"]
        var rows = 0
        for line in doc.split(separator: "\n") where line.hasPrefix("| ") && line.contains("| `#") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let method = cells[0].components(separatedBy: " / ")[0]
            let style = Palette.style(of: method, in: spec)
            #expect(cells[1] == "`\(style.color)`" && cells[2] == names[style.dash], "\(line) vs \(style)")
            rows += 1
        }
        #expect(rows == 16, "the table has a row per method")
    }
}
