import Foundation
import Thunnini

/// One figure of the report: its file (under `figures/`), SVG and caption.
public struct RenderedFigure {
    public var fileName: String
    public var svg: String
    public var caption: String
}

/// The figures of one experiment's results folder, as the experiment
/// notebook draws them (Docs/report.md maps each to its cells).
struct ExperimentFigures {
    let results: ResultsFolder
    /// File-name prefix, e.g. `e1-`.
    let prefix: String
    var spec: ExperimentSpec { results.spec }

    /// Summaries by source, then method; methods in run order.
    var summaries: [String: [String: ExperimentResults.RegretSummary]] {
        var out: [String: [String: ExperimentResults.RegretSummary]] = [:]
        for s in results.summaries { out[s.source, default: [:]][s.method] = s }
        return out
    }

    var methodOrder: [String] {
        var seen: [String] = []
        for s in results.summaries where !seen.contains(s.method) { seen.append(s.method) }
        return seen
    }

    /// A file-name-safe, unique slug per evaluation source.
    var sourceSlugs: [String: String] {
        var out: [String: String] = [:]
        for (i, named) in spec.evalDataConfigs.enumerated() {
            let lowered = named.name.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
            let slug = lowered.split(separator: "-").joined(separator: "-")
            out[named.name] = "s\(i + 1)-" + (slug.isEmpty ? "source" : String(slug.prefix(40)))
        }
        return out
    }

    func legend(_ methods: [String]) -> [LegendEntry] {
        methods.map { LegendEntry(label: $0, kind: .line(Palette.stroke(of: $0, in: spec))) }
    }

    func all() throws -> [RenderedFigure] {
        var figures: [RenderedFigure] = []
        if let f = pretrainingLoss() { figures.append(f) }
        if let f = tuningLoss() { figures.append(f) }
        for source in spec.evalDataConfigs { figures.append(try regret(source)) }
        for source in spec.evalDataConfigs { figures.append(barsAtMarks(source)) }
        if let f = hardPrefix() { figures.append(f) }
        figures += dynamics()
        for source in spec.evalDataConfigs { if let f = examples(source) { figures.append(f) } }
        return figures
    }

    // MARK: 1. Pretraining loss

    func pretrainingLoss() -> RenderedFigure? {
        guard let curves = results.pretraining, let pre = spec.pretraining else { return nil }
        let steps = curves.losses.indices.map { Double($0 + 1) }
        var items: [PlotItem] = [.line(xs: steps, ys: curves.losses, stroke: .init(color: "#333333", width: 1.2))]
        var legend = [LegendEntry(label: "training loss", kind: .line(.init(color: "#333333", width: 1.2)))]
        var bayesText = ""
        if let bayes = Self.expectedBayesLoss(pre.dataConfig) {
            items.append(.line(xs: [steps.first ?? 1, steps.last ?? 1], ys: [bayes, bayes], stroke: Self.bayesStroke))
            legend.append(LegendEntry(label: "Bayes, expected", kind: .line(Self.bayesStroke)))
            bayesText = "; dashed: the source's Bayes predictor's expected loss, \(NiceTicks.label(bayes, decimals: 3)) nats (exact, `ExactRegret`), the lowest any predictor can reach on average"
        }
        let panel = XYPanel(title: "Pretraining on \(pre.dataConfig.generatorType)", xLabel: "training step",
                            yLabel: "loss [nats per sequence]", items: items)
        let figure = Figure(title: "\(spec.name): pretraining loss", panels: [.xy(panel)], columns: 1, panelWidth: 620, panelHeight: 320,
                            legend: legend)
        return RenderedFigure(fileName: prefix + "pretraining-loss.svg", svg: figure.render(),
                              caption: "Pretraining loss per step (summed log loss of a sequence of length \(pre.dataConfig.sequenceLength), mean over the batch of \(pre.dataConfig.batchSize))\(bayesText).")
    }

    static let bayesStroke = SVGDocument.Stroke(color: "#000000", width: 1.4, dash: [7, 4])

    /// The expected summed log loss of a sequence under the source's own Bayes
    /// predictor (exact, by enumeration), or nil when it cannot be computed.
    static func expectedBayesLoss(_ config: DataGeneratorConfig) -> Double? {
        guard let generator = try? makeDataGenerator(config),
              let exact = try? ExactRegret.compute(source: generator, predictor: generator, length: config.sequenceLength) else { return nil }
        return exact.expectedInstantLoss.reduce(0, +)
    }

    // MARK: 2. Tuning loss

    func tuningLoss() -> RenderedFigure? {
        guard !spec.tuningConfigs.isEmpty else { return nil }
        let bayes = Self.expectedBayesLoss(spec.tuningDataConfig)
        var panels: [Panel] = []
        for named in spec.tuningConfigs {
            let runs = results.tuningCurves[named.name] ?? []
            guard let first = runs.first else { continue }
            let color = Palette.color(of: named.name, in: spec)
            let steps = first.losses.indices.map { Double($0) }
            var items: [PlotItem] = runs.map { .line(xs: steps, ys: $0.losses, stroke: .init(color: color, width: 0.7, opacity: 0.45)) }
            let band = QuantileBand(curves: runs.map(\.losses))
            items.insert(.band(xs: steps, lower: band.lower, upper: band.upper, color: color, opacity: 0.22), at: 0)
            items.append(.line(xs: steps, ys: band.median, stroke: .init(color: color, width: 2)))
            if let bayes { items.append(.line(xs: [steps.first ?? 0, steps.last ?? 0], ys: [bayes, bayes], stroke: Self.bayesStroke)) }
            panels.append(.xy(XYPanel(title: named.name, xLabel: "tuning step", yLabel: "loss [nats/seq.]", items: items)))
        }
        let legend = bayes == nil ? [] : [LegendEntry(label: "Bayes, expected", kind: .line(Self.bayesStroke))]
        let figure = Figure(title: "\(spec.name): tuning loss on \(spec.tuningDataConfig.generatorType)", panels: panels,
                            columns: 4, panelWidth: 250, panelHeight: 220, legend: legend)
        return RenderedFigure(fileName: prefix + "tuning-loss.svg", svg: figure.render(),
                              caption: "Tuning loss per step and method: median over repetitions (thick), 25-75% band, one thin line per repetition"
                                + (bayes.map { "; dashed: the target's Bayes predictor's expected loss, \(NiceTicks.label($0, decimals: 3)) nats per sequence (exact)" } ?? "") + ".")
    }

    // MARK: 3. Regret curves with exact theory

    func marks(for source: NamedDataConfig) -> [(label: String, n: Int)] {
        var marks = [("N_tune", spec.tuningDataConfig.sequenceLength)]
        if let pre = spec.pretraining { marks.append(("N_train", pre.dataConfig.sequenceLength)) }
        marks.append(("N_eval", source.config.sequenceLength))
        return marks.filter { $0.1 >= 1 && $0.1 <= source.config.sequenceLength }.map { (label: $0.0, n: $0.1) }
    }

    /// Exact expected cumulative regrets of the Bayes baselines on `source`.
    func exactCurves(_ source: NamedDataConfig) throws -> [(method: String, cumulative: [Double], instant: [Double])] {
        let present = summaries[source.name] ?? [:]
        var out: [(String, [Double], [Double])] = []
        let generator = try makeDataGenerator(source.config)
        let label = spec.bayesLabel(for: source)
        if present[label] != nil {
            let exact = try ExactRegret.compute(source: generator, predictor: generator, length: source.config.sequenceLength)
            out.append((label, exact.cumulativeRegret, exact.instantRegret))
        }
        if present[Baseline.preBayes.rawValue] != nil, let pre = spec.pretraining {
            let exact = try ExactRegret.compute(source: generator, predictor: try makeDataGenerator(pre.dataConfig),
                                                length: source.config.sequenceLength)
            out.append((Baseline.preBayes.rawValue, exact.cumulativeRegret, exact.instantRegret))
        }
        if present[Baseline.preBayesPT.rawValue] != nil, let pre = spec.pretraining,
           let tokens = results.hardPrefixes[Baseline.preBayesPT.rawValue]?.tokens,
           let conditioned = Self.bayesPredictor(pre.dataConfig, after: tokens) {
            let exact = try ExactRegret.compute(source: generator, predictor: try makeDataGenerator(conditioned),
                                                length: source.config.sequenceLength)
            out.append((Baseline.preBayesPT.rawValue, exact.cumulativeRegret, exact.instantRegret))
        }
        return out
    }

    /// The Bayes predictor of `config`'s source after it has seen `tokens` (a
    /// hard prefix), as a source of the same family whose prior is that
    /// posterior: Dirichlet alphas plus the token counts; mixture weights
    /// times each component's likelihood of the tokens, normalised; a single
    /// coin unchanged. So PreBayesPT's expected regret is exact given its
    /// chosen prefix. Nil when a token is outside the vocabulary.
    static func bayesPredictor(_ config: DataGeneratorConfig, after tokens: [Int]) -> DataGeneratorConfig? {
        switch config {
        case .categorical(let c):
            return tokens.allSatisfy { $0 >= 0 && $0 < c.vocabSize } ? config : nil
        case .dirichletCategorical(var c):
            guard tokens.allSatisfy({ $0 >= 0 && $0 < c.alphas.count }) else { return nil }
            for t in tokens { c.alphas[t] += 1 }
            return .dirichletCategorical(c)
        case .mixtureOfCategoricals(var c):
            guard tokens.allSatisfy({ $0 >= 0 && $0 < c.vocabSize }) else { return nil }
            let logWeights = c.mixingWeights.indices.map { k in
                tokens.reduce(log(c.mixingWeights[k])) { $0 + log(c.biases[k][$1]) }
            }
            guard let top = logWeights.max(), top.isFinite else { return nil }
            let unnormalised = logWeights.map { exp($0 - top) }
            let total = unnormalised.reduce(0, +)
            c.mixingWeights = unnormalised.map { $0 / total }
            return .mixtureOfCategoricals(c)
        }
    }

    /// A centred moving average over `window` points (fewer at the ends).
    static func smoothed(_ ys: [Double], window: Int) -> [Double] {
        let half = window / 2
        return ys.indices.map { i in
            let range = max(0, i - half)...min(ys.count - 1, i + half)
            return ys[range].reduce(0, +) / Double(range.count)
        }
    }

    func regret(_ source: NamedDataConfig) throws -> RenderedFigure {
        let bySource = summaries[source.name] ?? [:]
        let methods = methodOrder.filter { bySource[$0] != nil && $0 != Baseline.groundTruth.rawValue }
        let exact = try exactCurves(source)
        let window = max(1, source.config.sequenceLength / 10) | 1
        var instantItems: [PlotItem] = [], cumulativeItems: [PlotItem] = []
        var instantMagnitudes: [Double] = [], cumulativeMagnitudes: [Double] = []
        for method in methods {
            let s = bySource[method]!
            let color = Palette.color(of: method, in: spec)
            let steps = s.instantRegret[0].indices.map { Double($0 + 1) }
            let instantMedian = QuantileBand(curves: s.instantRegret).median
            let band = s.cumulativeRegretQuantiles
            if s.repetitions > 1 {
                cumulativeItems.append(.band(xs: steps, lower: band.lower, upper: band.upper, color: color, opacity: 0.15))
                for curve in s.cumulativeRegret {
                    cumulativeItems.append(.line(xs: steps, ys: curve, stroke: .init(color: color, width: 0.6, opacity: 0.4)))
                }
            }
            let smooth = Self.smoothed(instantMedian, window: window)
            instantItems.append(.line(xs: steps, ys: instantMedian, stroke: .init(color: color, width: 0.6, opacity: 0.2)))
            instantItems.append(.line(xs: steps, ys: smooth, stroke: Palette.stroke(of: method, in: spec, width: 1.6)))
            cumulativeItems.append(.line(xs: steps, ys: band.median, stroke: Palette.stroke(of: method, in: spec, width: 1.8)))
            instantMagnitudes.append(smooth.map(abs).max() ?? 0)
            cumulativeMagnitudes.append(band.median.map(abs).max() ?? 0)
        }
        for curve in exact {
            let steps = curve.cumulative.indices.map { Double($0 + 1) }
            let stroke = Palette.exactStroke(of: curve.method, in: spec)
            instantItems.append(.line(xs: steps, ys: curve.instant, stroke: stroke))
            cumulativeItems.append(.line(xs: steps, ys: curve.cumulative, stroke: stroke))
            instantMagnitudes.append(curve.instant.map(abs).max() ?? 0)
            cumulativeMagnitudes.append(curve.cumulative.map(abs).max() ?? 0)
        }
        for mark in marks(for: source) {
            instantItems.append(.verticalMarker(x: Double(mark.n), label: mark.label, color: Palette.markerColor))
            cumulativeItems.append(.verticalMarker(x: Double(mark.n), label: mark.label, color: Palette.markerColor))
        }
        var legend = self.legend(methods)
        for curve in exact { legend.append(LegendEntry(label: "\(curve.method), exact", kind: .line(Palette.exactStroke(of: curve.method, in: spec)))) }
        let instantScale = AxisScale.choose(magnitudes: instantMagnitudes)
        let cumulativeScale = AxisScale.choose(magnitudes: cumulativeMagnitudes)
        func title(_ base: String, _ notes: [String], _ scale: AxisScale) -> String {
            var notes = notes
            if case .symlog(let c) = scale { notes.append("symlog, linear to \(NiceTicks.label(c, decimals: max(0, Int(-floor(log10(c))))))") }
            return notes.isEmpty ? base : base + " (" + notes.joined(separator: "; ") + ")"
        }
        let figure = Figure(title: "\(spec.name): regret on \(source.name)", panels: [
            .xy(XYPanel(title: title("instant regret", window > 1 ? ["mean of \(window)"] : [], instantScale), xLabel: "prediction n", yLabel: "instant regret [nats]",
                        yScale: instantScale, items: instantItems)),
            .xy(XYPanel(title: title("cumulative regret", [], cumulativeScale), xLabel: "prediction n", yLabel: "cumulative regret [nats]",
                        yScale: cumulativeScale, items: cumulativeItems)),
        ], columns: 2, panelWidth: 440, panelHeight: 340, legend: legend)
        let scales = [instantScale, cumulativeScale].contains { if case .symlog = $0 { true } else { false } }
            ? " A panel whose curves span more than 20x has a symlog y axis (linear between 0 and the value in its title, logarithmic beyond), so that no curve sets the scale for the others." : ""
        return RenderedFigure(fileName: prefix + "regret-\(sourceSlugs[source.name]!).svg", svg: figure.render(),
                              caption: "Instant regret (left: median over repetitions" + (window > 1 ? ", moving average over \(window) predictions, the raw median faint)" : ")") + " and cumulative regret (right: median, 25-75% band, thin lines per repetition) on \(source.name) per method and baseline; dashed: the exact expected regret of the Bayes baselines (no sampling; PreBayesPT's given its chosen prefix); dotted verticals at N_tune, N_train, N_eval.\(scales)")
    }

    // MARK: 4. Bars at N_tune / N_train / N_eval

    func barsAtMarks(_ source: NamedDataConfig) -> RenderedFigure {
        let bySource = summaries[source.name] ?? [:]
        let methods = methodOrder.filter { bySource[$0] != nil && $0 != Baseline.groundTruth.rawValue }
        var panels: [Panel] = []
        for mark in marks(for: source) {
            var groups: [(name: String, bars: [BarPanel.Bar])] = []
            for group in Palette.Group.allCases {
                let bars = methods.filter { Palette.group(of: $0, in: spec) == group }.compactMap { method -> BarPanel.Bar? in
                    guard let at = bySource[method]!.cumulativeRegretAtMarks.first(where: { $0.label == mark.label }) else { return nil }
                    let q = at.cumulativeRegret
                    return BarPanel.Bar(label: method, value: q[1], whisker: q[0]...q[2], color: Palette.color(of: method, in: spec))
                }
                if !bars.isEmpty { groups.append((group == .prefix ? "prefix" : group == .weights ? "weights" : "baselines", bars)) }
            }
            let magnitudes = groups.flatMap { $0.bars.map(\.value) }
            panels.append(.bars(BarPanel(title: "\(mark.label) = \(mark.n)", valueLabel: "cumulative regret [nats]", groups: groups,
                                         scale: AxisScale.choose(magnitudes: magnitudes))))
        }
        let figure = Figure(title: "\(spec.name): cumulative regret on \(source.name) at " + marks(for: source).map(\.label).joined(separator: ", "),
                            panels: panels, columns: 3, panelWidth: 330, panelHeight: 360)
        return RenderedFigure(fileName: prefix + "bars-\(sourceSlugs[source.name]!).svg", svg: figure.render(),
                              caption: "Cumulative regret on \(source.name) after N_tune, N_train and N_eval predictions: median over repetitions, whiskers 25-75%; a panel whose bars span more than 20x has a symlog axis (linear near 0, logarithmic beyond).")
    }

    // MARK: 5. Hard-prefix search

    func hardPrefix() -> RenderedFigure? {
        guard !results.hardPrefixes.isEmpty else { return nil }
        var panels: [Panel] = []
        let shown = 40
        for name in ["HardPT", Baseline.preBayesPT.rawValue] {
            guard let hard = results.hardPrefixes[name], let candidates = try? HardPrefixSearch.candidates(
                vocabSize: spec.predictorConfig.tokenDimensionality, length: hard.tokens.count) else { continue }
            let order = candidates.indices.sorted { (hard.candidateLosses[$0], $0) < (hard.candidateLosses[$1], $1) }
            let color = name == "HardPT" ? Palette.hardPrefixColor : Palette.color(of: Baseline.preBayesPT.rawValue, in: spec)
            let shownOrder = Array(order.prefix(shown))
            let bars = shownOrder.map { i -> BarPanel.Bar in
                let chosen = candidates[i] == hard.tokens
                let tie = !chosen && abs(hard.candidateLosses[i] - hard.loss) <= Self.tieTolerance
                return BarPanel.Bar(label: candidates[i].map(String.init).joined(), value: hard.candidateLosses[i], color: color,
                                    highlighted: chosen, mark: chosen ? "chosen" : tie ? "tie" : nil)
            }
            // Zoomed to the shown candidates' range (5% margins; 0 only when the data reach it).
            let values = shownOrder.map { hard.candidateLosses[$0] }.filter(\.isFinite)
            let (lowest, highest) = (values.min() ?? 0, values.max() ?? 1)
            let pad = highest > lowest ? 0.05 * (highest - lowest) : max(abs(lowest) * 1e-3, 1e-6)
            let range = max(lowest >= 0 ? 0 : -Double.infinity, lowest - pad)...(highest + pad)
            let ties = bars.filter { $0.mark == "tie" }.count
            let more = candidates.count > shown ? " (best \(shown) of \(candidates.count))" : ""
            panels.append(.bars(BarPanel(title: name + more + (ties > 0 ? ", \(ties) tie\(ties == 1 ? "" : "s")" : ""),
                                         valueLabel: "mean cumulative loss [nats]", groups: [("", bars)],
                                         horizontal: true, monospaceLabels: true, valueRange: range)))
        }
        guard !panels.isEmpty else { return nil }
        let rows = min(shown, results.hardPrefixes.values.map(\.candidateLosses.count).max() ?? 1)
        let figure = Figure(title: "\(spec.name): hard-prefix search", panels: panels, columns: 2, panelWidth: 440,
                            panelHeight: Double(max(rows, 8)) * 14 + 80)
        return RenderedFigure(fileName: prefix + "hard-prefix.svg", svg: figure.render(),
                              caption: "Every candidate hard prefix's mean cumulative loss on the search sequences, best first, labelled by its tokens, on an axis zoomed to the candidates' range. The search keeps the lowest loss and, among exact ties, the earliest candidate in search order (Docs/experiment.md); the chosen prefix is in full colour and marked, candidates within \(SVGNumber.format(Self.tieTolerance * 1e6, digits: 0))e-6 nats of it are marked \"tie\".")
    }

    /// Candidates this close (nats) to the chosen hard prefix are marked as ties.
    static let tieTolerance = 1e-6

    // MARK: 6. Internal dynamics

    func dynamics() -> [RenderedFigure] {
        guard let d = results.dynamics else { return [] }
        let fit = d.fitProjection
        let (n, length) = (fit.shape[0], fit.shape[1])
        var xs: [Double] = [], ys: [Double] = [], steps: [Double] = [], probabilities: [Double] = []
        let v = d.fitGroundTruthLogProbs.shape[2]
        // Every other sequence is drawn (the fit uses all): 5000 points per panel would make the file large.
        for b in stride(from: 0, to: n, by: 2) {
            for t in 0..<length {
                xs.append(fit.storage[(b * length + t) * 2])
                ys.append(fit.storage[(b * length + t) * 2 + 1])
                steps.append(Double(t))
                probabilities.append(exp(d.fitGroundTruthLogProbs.storage[(b * length + t) * v + min(1, v - 1)]))
            }
        }
        let stepColors = steps.map { ColorMap.viridis.color($0 / Double(max(length - 1, 1))) }
        let probabilityColors = probabilities.map { ColorMap.blueOrange.color($0) }
        let fitFigure = Figure(title: "\(spec.name): internal states, first two whitened principal components", panels: [
            .xy(XYPanel(title: "coloured by step", xLabel: "PC 1 (whitened)", yLabel: "PC 2 (whitened)",
                        items: [.scatter(xs: xs, ys: ys, colors: stepColors, radius: 1.6, opacity: 0.7)],
                        colorBar: ColorBar(label: "step", map: .viridis, low: 0, high: Double(length - 1)))),
            .xy(XYPanel(title: "coloured by ground truth", xLabel: "PC 1 (whitened)", yLabel: "PC 2 (whitened)",
                        items: [.scatter(xs: xs, ys: ys, colors: probabilityColors, radius: 1.6, opacity: 0.7)],
                        colorBar: ColorBar(label: "P(token 1)", map: .blueOrange, low: 0, high: 1))),
        ], columns: 2, panelWidth: 450, panelHeight: 360)
        var figures = [RenderedFigure(fileName: prefix + "dynamics-pca.svg", svg: fitFigure.render(),
                                      caption: "Internal states of the pretrained network (\(InternalStates.stateNames(of: spec.torsoConfig).joined(separator: ", ")), layers concatenated) on \(n) sequences of length \(length) from the pretraining source (every other sequence drawn), projected on the first two whitened principal components, coloured by step and by the ground-truth probability of token 1.")]
        // Every 10th pretraining state (every 5th drawn one) as a grey backdrop (all of them would make each file megabytes).
        let backdrop = Array(stride(from: 0, to: xs.count, by: 5))
        let background = PlotItem.scatter(xs: backdrop.map { xs[$0] }, ys: backdrop.map { ys[$0] },
                                          colors: Array(repeating: "#d0d0d0", count: backdrop.count), radius: 1.4, opacity: 0.6)
        for source in spec.evalDataConfigs {
            let trajectories = d.trajectories.filter { $0.source == source.name }
            guard !trajectories.isEmpty else { continue }
            var panels: [Panel] = []
            for t in trajectories {
                let color = Palette.color(of: t.method, in: spec)
                let (count, total) = (t.projection.shape[0], t.projection.shape[1])
                var items = [background]
                for b in 0..<count {
                    let px = (0..<total).map { t.projection.storage[(b * total + $0) * 2] }
                    let py = (0..<total).map { t.projection.storage[(b * total + $0) * 2 + 1] }
                    let k = t.prefixLength
                    items.append(.line(xs: Array(px[max(k - 1, 0)...]), ys: Array(py[max(k - 1, 0)...]),
                                       stroke: .init(color: color == "#000000" ? "#444444" : color, width: 1, opacity: 0.7)))
                    if k > 0 {
                        items.append(.line(xs: Array(px[0..<k]), ys: Array(py[0..<k]), stroke: .init(color: "#000000", width: 2)))
                        items.append(.scatter(xs: Array(px[0..<k]), ys: Array(py[0..<k]), colors: Array(repeating: "#000000", count: k),
                                              radius: 2.4, opacity: 1))
                    }
                    items.append(.scatter(xs: [px[k]], ys: [py[k]], colors: ["#ff00ff"], radius: 2.6, opacity: 1))
                }
                panels.append(.xy(XYPanel(title: t.method, xLabel: "PC 1", yLabel: "PC 2", items: items)))
            }
            let legend = [LegendEntry(label: "prefix part", kind: .line(.init(color: "#000000", width: 2))),
                          LegendEntry(label: "first prediction", kind: .point("#ff00ff")),
                          LegendEntry(label: "pretraining states", kind: .point("#d0d0d0"))]
            let figure = Figure(title: "\(spec.name): state trajectories on \(source.name)", panels: panels, columns: 3,
                                panelWidth: 300, panelHeight: 270, legend: legend)
            figures.append(RenderedFigure(fileName: prefix + "dynamics-\(sourceSlugs[source.name]!).svg", svg: figure.render(),
                                          caption: "Trajectories of the internal states on the first \(trajectories[0].projection.shape[0]) sequences of \(source.name) in the same whitened components, per network (tuned methods: repetition 1); black: the prefix part (BOS and prefix positions), magenta: the position that makes the first prediction."))
        }
        return figures
    }

    // MARK: 7. Example trajectories

    func examples(_ source: NamedDataConfig) -> RenderedFigure? {
        guard let byMethod = results.exampleLogProbs[source.name], let sequences = results.sequences[source.name]?["sequences"],
              let truth = results.sequences[source.name]?["ground_truth_log_probs"] else { return nil }
        let bayes = spec.bayesLabel(for: source)
        let wanted = [bayes, Baseline.noTuning.rawValue, "HardPT"] + spec.tuningConfigs.map(\.name)
        let methods = wanted.filter { byMethod[$0] != nil }
        guard let anyExample = methods.first.flatMap({ byMethod[$0] }) else { return nil }
        let shown = min(3, anyExample.shape[1])
        let (length, v) = (sequences.shape[1], sequences.shape[2])
        var panels: [Panel] = []
        for b in 0..<shown {
            let steps = (0..<length).map { Double($0 + 1) }
            var items: [PlotItem] = []
            let tokens = (0..<length).map { t in sequences.storage[(b * length + t) * v + 1] }
            items.append(.scatter(xs: steps, ys: tokens.map { $0 > 0.5 ? 1.0 : 0.0 }, colors: Array(repeating: "#7a7a7a", count: length),
                                  radius: 2.2, opacity: 0.9))
            let truthCurve = (0..<length).map { t in exp(truth.storage[(b * length + t) * v + 1]) }
            for method in methods {
                let lp = byMethod[method]!
                let (s, t) = (lp.shape[1], lp.shape[2])
                let p = (0..<t).map { step in exp(lp.storage[((0 * s + b) * t + step) * v + 1]) }
                items.append(.line(xs: steps, ys: p, stroke: Palette.stroke(of: method, in: spec, width: 1.4)))
            }
            items.append(.line(xs: steps, ys: truthCurve, stroke: .init(color: "#000000", width: 1.6, dash: [2, 3])))
            panels.append(.xy(XYPanel(title: "sequence \(b + 1)", xLabel: "prediction n", yLabel: "P(token 1)",
                                      yRange: -0.02...1.02, items: items)))
        }
        var legend = self.legend(methods)
        legend.append(LegendEntry(label: "ground truth", kind: .line(.init(color: "#000000", dash: [2, 3]))))
        legend.append(LegendEntry(label: "observed token", kind: .point("#7a7a7a")))
        let figure = Figure(title: "\(spec.name): predictions on \(source.name)", panels: panels, columns: 3,
                            panelWidth: 330, panelHeight: 280, legend: legend)
        return RenderedFigure(fileName: prefix + "examples-\(sourceSlugs[source.name]!).svg", svg: figure.render(),
                              caption: "Predicted probability of token 1 on the first \(shown) evaluation sequences of \(source.name) (tuned methods: repetition 1), beside the ground truth; grey dots: the observed tokens (0 or 1).")
    }
}
