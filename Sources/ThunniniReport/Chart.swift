import Foundation

/// Axis scale of a panel. `symlog(c)` is linear within c of zero and
/// logarithmic beyond (sign(y) log10(1 + |y|/c)), so curves that differ by
/// orders of magnitude, zero and slightly negative values all stay readable;
/// c is a power of ten.
public enum AxisScale: Equatable, Sendable {
    case linear, logarithmic, symlog(Double)

    /// symlog when the largest of `magnitudes` is more than `ratio` times the
    /// smallest, else linear. Magnitudes below 1e-2 of the largest count as
    /// zero (a curve at 0 alone does not call for a log axis), which also
    /// bounds the logarithmic range to about two decades.
    public static func choose(magnitudes: [Double], ratio: Double = 20) -> AxisScale {
        let positive = magnitudes.filter { $0.isFinite }.map(abs)
        guard let high = positive.max(), high > 0 else { return .linear }
        let low = positive.filter { $0 >= high * 1e-2 }.min()!
        guard high / low > ratio else { return .linear }
        return .symlog(pow(10, floor(log10(low))))
    }
}

/// One thing drawn in an x-y panel, in data coordinates.
public enum PlotItem {
    /// A curve (non-finite points break it).
    case line(xs: [Double], ys: [Double], stroke: SVGDocument.Stroke)
    /// A filled band between two curves (e.g. the 25-75% quantiles).
    case band(xs: [Double], lower: [Double], upper: [Double], color: String, opacity: Double)
    /// Points, each with its own colour.
    case scatter(xs: [Double], ys: [Double], colors: [String], radius: Double, opacity: Double)
    /// A vertical marker line with a label at its top.
    case verticalMarker(x: Double, label: String, color: String)
}

/// A colour bar explaining a scatter's colours.
public struct ColorBar {
    public var label: String
    public var map: ColorMap
    public var low: Double
    public var high: Double
}

/// An x-y panel: axes with nice ticks, optional log scales, items clipped to the data area.
public struct XYPanel {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: AxisScale = .linear
    public var yScale: AxisScale = .linear
    /// Fixed ranges (nil: from the data; y padded to nice ticks).
    public var xRange: ClosedRange<Double>? = nil
    public var yRange: ClosedRange<Double>? = nil
    public var items: [PlotItem] = []
    public var colorBar: ColorBar? = nil

    public init(title: String, xLabel: String, yLabel: String, xScale: AxisScale = .linear, yScale: AxisScale = .linear,
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil, items: [PlotItem] = [], colorBar: ColorBar? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xScale = xScale
        self.yScale = yScale
        self.xRange = xRange
        self.yRange = yRange
        self.items = items
        self.colorBar = colorBar
    }

    /// Finite data values (positive only on a log axis) of every item.
    func dataExtent(x: Bool) -> ClosedRange<Double>? {
        var values: [Double] = []
        for item in items {
            switch item {
            case .line(let xs, let ys, _): values += x ? xs : ys
            case .band(let xs, let lower, let upper, _, _): values += x ? xs : lower + upper
            case .scatter(let xs, let ys, _, _, _): values += x ? xs : ys
            case .verticalMarker(let mx, _, _): if x { values.append(mx) }
            }
        }
        let scale = x ? xScale : yScale
        values = values.filter { $0.isFinite && (scale != .logarithmic || $0 > 0) }
        guard let low = values.min(), let high = values.max() else { return nil }
        return low...high
    }
}

/// A bar panel: groups of labelled bars with optional whiskers (e.g. IQR),
/// vertical (categories along x) or horizontal (categories down the y axis).
public struct BarPanel {
    public struct Bar {
        public var label: String
        public var value: Double
        public var whisker: ClosedRange<Double>?
        public var color: String
        /// Drawn with a thick black outline (e.g. the chosen hard prefix).
        public var highlighted: Bool = false
        /// A short text at the bar's end (horizontal bars), e.g. "chosen" or "tie".
        public var mark: String? = nil
        public init(label: String, value: Double, whisker: ClosedRange<Double>? = nil, color: String, highlighted: Bool = false,
                    mark: String? = nil) {
            self.label = label
            self.value = value
            self.whisker = whisker
            self.color = color
            self.highlighted = highlighted
            self.mark = mark
        }
    }
    public var title: String
    public var valueLabel: String
    public var groups: [(name: String, bars: [Bar])]
    public var horizontal: Bool = false
    /// A dashed reference value across the panel (e.g. TargetBayes).
    public var reference: (value: Double, label: String)? = nil
    public var monospaceLabels = false
    /// The value axis' scale (from 0), unless `valueRange` zooms it.
    public var scale: AxisScale = .linear
    /// A zoomed value axis (bars start at its low end), e.g. the hard-prefix
    /// candidates' range instead of 0 to their largest loss.
    public var valueRange: ClosedRange<Double>? = nil

    public init(title: String, valueLabel: String, groups: [(name: String, bars: [Bar])], horizontal: Bool = false,
                reference: (value: Double, label: String)? = nil, monospaceLabels: Bool = false,
                scale: AxisScale = .linear, valueRange: ClosedRange<Double>? = nil) {
        self.scale = scale
        self.valueRange = valueRange
        self.title = title
        self.valueLabel = valueLabel
        self.groups = groups
        self.horizontal = horizontal
        self.reference = reference
        self.monospaceLabels = monospaceLabels
    }
}

/// A panel of a figure.
public enum Panel {
    case xy(XYPanel)
    case bars(BarPanel)
}

/// A legend entry: a line (solid or dashed), a band swatch, or a point.
public struct LegendEntry {
    public enum Kind { case line(SVGDocument.Stroke), swatch(String), point(String) }
    public var label: String
    public var kind: Kind
    public init(label: String, kind: Kind) {
        self.label = label
        self.kind = kind
    }
}

/// A figure: a title, panels in a grid, and a legend in its own column to
/// the right of the panels (never over data).
public struct Figure {
    public var title: String
    public var panels: [Panel]
    public var columns: Int
    public var panelWidth: Double = 420
    public var panelHeight: Double = 300
    public var legend: [LegendEntry] = []

    public init(title: String, panels: [Panel], columns: Int, panelWidth: Double = 420, panelHeight: Double = 300,
                legend: [LegendEntry] = []) {
        self.title = title
        self.panels = panels
        self.columns = max(1, min(columns, panels.count))
        self.panelWidth = panelWidth
        self.panelHeight = panelHeight
        self.legend = legend
    }

    static let titleHeight = 34.0, legendWidth = 175.0, legendRow = 19.0

    /// The SVG text of the figure.
    public func render() -> String {
        let rows = (panels.count + columns - 1) / columns
        let legendHeight = legend.isEmpty ? 0 : Double(legend.count) * Self.legendRow + 30
        // Wide enough for the title (a long experiment or source name widens the figure rather than clipping it).
        let width = max(Double(columns) * panelWidth + (legend.isEmpty ? 10 : Self.legendWidth),
                        Self.estimatedTextWidth(title, size: 16, bold: true) + 24)
        let height = max(Self.titleHeight + Double(rows) * panelHeight, Self.titleHeight + legendHeight) + 6
        var doc = SVGDocument(width: width, height: height, title: title)
        doc.text(title, x: 12, y: 23, size: 16, bold: true)
        for (i, panel) in panels.enumerated() {
            let cellX = Double(i % columns) * panelWidth
            let cellY = Self.titleHeight + Double(i / columns) * panelHeight
            switch panel {
            case .xy(let p): drawXY(p, into: &doc, x: cellX, y: cellY)
            case .bars(let p): drawBars(p, into: &doc, x: cellX, y: cellY)
            }
        }
        if !legend.isEmpty { drawLegend(into: &doc, x: Double(columns) * panelWidth + 8, y: Self.titleHeight + 8) }
        return doc.render()
    }

    // MARK: - Axes

    /// Maps data to pixels along one axis.
    struct AxisMap {
        var low: Double, high: Double, pixelLow: Double, pixelHigh: Double, scale: AxisScale
        func callAsFunction(_ v: Double) -> Double {
            let t: Double
            switch scale {
            case .linear: t = (v - low) / (high - low)
            case .logarithmic: t = v > 0 ? (log10(v) - log10(low)) / (log10(high) - log10(low)) : .nan
            case .symlog(let c):
                func f(_ y: Double) -> Double { (y < 0 ? -1 : 1) * log10(1 + abs(y) / c) }
                t = (f(v) - f(low)) / (f(high) - f(low))
            }
            return pixelLow + t * (pixelHigh - pixelLow)
        }
    }

    /// Domain and ticks of an axis; `pad` widens a linear domain to whole ticks.
    static func axis(_ extent: ClosedRange<Double>?, fixed: ClosedRange<Double>?, scale: AxisScale, pad: Bool)
        -> (low: Double, high: Double, ticks: [Double], decimals: Int) {
        switch scale {
        case .linear:
            let e = fixed ?? extent ?? 0...1
            let (ticks, step) = NiceTicks.linear(low: e.lowerBound, high: e.upperBound)
            let low = fixed != nil || !pad ? (e.upperBound > e.lowerBound ? e.lowerBound : ticks.first!) : ticks.first!
            let high = fixed != nil || !pad ? (e.upperBound > e.lowerBound ? e.upperBound : ticks.last!) : ticks.last!
            let inside = ticks.filter { $0 >= low - step * 1e-9 && $0 <= high + step * 1e-9 }
            return (low, high, inside, NiceTicks.decimals(step: step))
        case .logarithmic:
            var e = fixed ?? extent ?? 0.1...1
            if !(e.upperBound > e.lowerBound) { e = (e.lowerBound / 2)...(e.lowerBound * 2) }
            let low = pad ? pow(10, floor(log10(e.lowerBound))) : e.lowerBound
            let high = pad ? pow(10, ceil(log10(e.upperBound))) : e.upperBound
            let ticks = NiceTicks.logarithmic(low: low, high: high).filter { $0 >= low * (1 - 1e-9) && $0 <= high * (1 + 1e-9) }
            let decimals = max(0, Int(-floor(log10(low))))
            return (low, high, ticks, min(decimals, 6))
        case .symlog(let c):
            let e = fixed ?? extent ?? 0...1
            // Ticks 0 and +-c * 10^k; the domain reaches the first tick beyond the data on each side.
            var positive: [Double] = [c]
            while positive.last! < e.upperBound { positive.append(positive.last! * 10) }
            var negative: [Double] = []
            if e.lowerBound < 0 {
                negative = [-c]
                while negative.last! > e.lowerBound { negative.append(negative.last! * 10) }
            }
            let low = pad ? (negative.last ?? 0) : min(0, e.lowerBound)
            let high = pad ? positive.last! : e.upperBound
            let ticks = (negative.reversed() + [0] + positive).filter { $0 >= low - 1e-12 && $0 <= high + 1e-12 }
            return (low, high, ticks, min(max(0, Int(-floor(log10(c) + 1e-9))), 6))
        }
    }

    static let axisColor = "#444444", gridColor = "#e4e4e4"

    /// A generous estimate of a text's width in the report's sans-serif font
    /// (0.62 em per character, 0.66 bold): used to keep titles inside the figure.
    static func estimatedTextWidth(_ text: String, size: Double, bold: Bool = false) -> Double {
        Double(text.count) * size * (bold ? 0.66 : 0.62)
    }

    /// `size`, or smaller (down to 8) so that `text` fits in `width`.
    static func fittedSize(_ text: String, width: Double, size: Double, bold: Bool = false) -> Double {
        let needed = estimatedTextWidth(text, size: size, bold: bold)
        return needed <= width ? size : max(8, (size * width / needed * 10).rounded(.down) / 10)
    }

    /// A tick label; on a symlog axis each tick with the decimals it needs (0.01, 0.1, 1, 10).
    static func tickLabel(_ t: Double, decimals: Int, scale: AxisScale) -> String {
        guard case .symlog = scale else { return NiceTicks.label(t, decimals: decimals) }
        return t == 0 ? "0" : NiceTicks.label(t, decimals: max(0, Int(-floor(log10(abs(t)) + 1e-9))))
    }

    func drawXY(_ p: XYPanel, into doc: inout SVGDocument, x: Double, y: Double) {
        let rightMargin = p.colorBar == nil ? 16.0 : 78.0
        let hasMarkers = p.items.contains { if case .verticalMarker = $0 { true } else { false } }
        let topMargin = hasMarkers ? 38.0 : 26.0
        let plotX = x + 66, plotY = y + topMargin
        let plotW = panelWidth - 66 - rightMargin, plotH = panelHeight - topMargin - 52
        let xa = Self.axis(p.dataExtent(x: true), fixed: p.xRange, scale: p.xScale, pad: false)
        let ya = Self.axis(p.dataExtent(x: false), fixed: p.yRange, scale: p.yScale, pad: true)
        let mx = AxisMap(low: xa.low, high: xa.high, pixelLow: plotX, pixelHigh: plotX + plotW, scale: p.xScale)
        let my = AxisMap(low: ya.low, high: ya.high, pixelLow: plotY + plotH, pixelHigh: plotY, scale: p.yScale)
        doc.text(p.title, x: plotX + plotW / 2, y: y + 16, size: Self.fittedSize(p.title, width: plotW + 2 * rightMargin - 4, size: 13, bold: true),
                 anchor: "middle", bold: true)
        for t in ya.ticks {
            doc.line(plotX, my(t), plotX + plotW, my(t), .init(color: Self.gridColor, width: 1))
            doc.text(Self.tickLabel(t, decimals: ya.decimals, scale: p.yScale), x: plotX - 6, y: my(t) + 4, size: 11, anchor: "end")
        }
        for t in xa.ticks {
            doc.line(mx(t), plotY + plotH, mx(t), plotY + plotH + 4, .init(color: Self.axisColor, width: 1))
            doc.text(NiceTicks.label(t, decimals: xa.decimals), x: mx(t), y: plotY + plotH + 17, size: 11, anchor: "middle")
        }
        doc.rect(x: plotX, y: plotY, width: plotW, height: plotH, fill: "none", stroke: .init(color: Self.axisColor, width: 1))
        doc.text(p.xLabel, x: plotX + plotW / 2, y: plotY + plotH + 36, size: 12, anchor: "middle")
        doc.text(p.yLabel, x: x + 14, y: plotY + plotH / 2, size: 12, anchor: "middle", rotate: -90)
        let clip = doc.clipRect(x: plotX, y: plotY, width: plotW, height: plotH)
        doc.beginGroup(clip: clip)
        for item in p.items {
            switch item {
            case .band(let xs, let lower, let upper, let color, let opacity):
                let top = zip(xs, upper).map { (mx($0), my($1)) }
                let bottom = zip(xs, lower).map { (mx($0), my($1)) }.reversed()
                doc.polygon(top + bottom, fill: color, opacity: opacity)
            case .line(let xs, let ys, let stroke):
                doc.polyline(zip(xs, ys).map { (mx($0), my($1)) }, stroke)
            case .scatter(let xs, let ys, let colors, let radius, let opacity):
                for i in xs.indices { doc.circle(cx: mx(xs[i]), cy: my(ys[i]), r: radius, fill: colors[i], opacity: opacity) }
            case .verticalMarker(let v, _, let color):
                doc.line(mx(v), plotY, mx(v), plotY + plotH, .init(color: color, width: 1, dash: [2, 3]))
            }
        }
        doc.endGroup()
        // Marker labels above the data area, staggered when close.
        var lastLabelX = -Double.infinity, row = 0
        for case .verticalMarker(let v, let label, let color) in p.items {
            let px = mx(v)
            row = px - lastLabelX < 44 ? 1 - row : 0
            lastLabelX = px
            doc.text(label, x: px, y: plotY - 3 - Double(row) * 0, size: 10, anchor: row == 0 ? "end" : "start", color: color)
        }
        if let bar = p.colorBar { drawColorBar(bar, into: &doc, x: plotX + plotW + 14, y: plotY, height: plotH) }
    }

    func drawColorBar(_ bar: ColorBar, into doc: inout SVGDocument, x: Double, y: Double, height: Double) {
        let steps = 32
        for i in 0..<steps {
            let t = (Double(i) + 0.5) / Double(steps)
            doc.rect(x: x, y: y + height * (1 - Double(i + 1) / Double(steps)), width: 12, height: height / Double(steps) + 0.5,
                     fill: bar.map.color(t))
        }
        doc.rect(x: x, y: y, width: 12, height: height, fill: "none", stroke: .init(color: Self.axisColor, width: 1))
        let (ticks, step) = NiceTicks.linear(low: bar.low, high: bar.high, count: 4)
        for t in ticks where t >= bar.low - 1e-12 && t <= bar.high + 1e-12 {
            let py = y + height * (1 - (t - bar.low) / max(bar.high - bar.low, 1e-300))
            doc.text(NiceTicks.label(t, decimals: NiceTicks.decimals(step: step)), x: x + 15, y: py + 4, size: 10)
        }
        doc.text(bar.label, x: x + 52, y: y + height / 2, size: 11, anchor: "middle", rotate: -90)
    }

    func drawBars(_ p: BarPanel, into doc: inout SVGDocument, x: Double, y: Double) {
        let bars = p.groups.flatMap(\.bars)
        let values = bars.flatMap { [$0.value, $0.whisker?.lowerBound ?? $0.value, $0.whisker?.upperBound ?? $0.value] }
            + (p.reference.map { [$0.value] } ?? [])
        let finite = values.filter(\.isFinite)
        let low = min(0, finite.min() ?? 0), high = max(0, finite.max() ?? 1)
        // The value axis: a zoomed range (bars start at its low end), a symlog
        // axis from 0, or a linear one from 0 padded to nice ticks.
        let ticks: [Double], decimals: Int, vLow: Double, vHigh: Double, base: Double
        if let range = p.valueRange {
            let (all, step) = NiceTicks.linear(low: range.lowerBound, high: range.upperBound)
            ticks = all.filter { $0 >= range.lowerBound - step * 1e-9 && $0 <= range.upperBound + step * 1e-9 }
            (decimals, vLow, vHigh, base) = (NiceTicks.decimals(step: step), range.lowerBound, range.upperBound, range.lowerBound)
        } else if case .symlog = p.scale {
            let a = Self.axis(low...high, fixed: nil, scale: p.scale, pad: true)
            (ticks, decimals, vLow, vHigh, base) = (a.ticks, a.decimals, a.low, a.high, 0)
        } else {
            let (all, step) = NiceTicks.linear(low: low, high: high)
            (ticks, decimals, vLow, vHigh, base) = (all, NiceTicks.decimals(step: step), all.first!, all.last!, 0)
        }
        let scale: AxisScale = p.valueRange == nil ? p.scale : .linear
        func tick(_ t: Double) -> String { Self.tickLabel(t, decimals: decimals, scale: scale) }
        let slotCount = Double(bars.count) + Double(max(p.groups.count - 1, 0)) * 0.6
        doc.text(p.title, x: x + panelWidth / 2, y: y + 17, size: Self.fittedSize(p.title, width: panelWidth - 8, size: 13, bold: true),
                 anchor: "middle", bold: true)
        if p.horizontal {
            let plotX = x + (p.monospaceLabels ? 84 : 110), plotY = y + 26
            let plotW = panelWidth - (plotX - x) - 16, plotH = panelHeight - 26 - 48
            let m = AxisMap(low: vLow, high: vHigh, pixelLow: plotX, pixelHigh: plotX + plotW, scale: scale)
            let slot = plotH / max(slotCount, 1)
            for t in ticks {
                doc.line(m(t), plotY, m(t), plotY + plotH, .init(color: Self.gridColor, width: 1))
                doc.text(tick(t), x: m(t), y: plotY + plotH + 16, size: 11, anchor: "middle")
            }
            var position = 0.0
            let labelSize = min(11, max(6, slot * 0.8))
            let anyHighlighted = bars.contains { $0.highlighted }
            for group in p.groups {
                for bar in group.bars {
                    let top = plotY + position * slot + slot * 0.12
                    let h = slot * 0.76
                    doc.rect(x: min(m(base), m(bar.value)), y: top, width: abs(m(bar.value) - m(base)), height: h, fill: bar.color,
                             opacity: anyHighlighted && !bar.highlighted ? 0.45 : 1)
                    if let mark = bar.mark {
                        // After the bar's end, or inside it when that would leave the panel.
                        let end = max(m(base), m(bar.value)), width = Double(mark.count) * labelSize * 0.62 + 4
                        let outside = end + width <= plotX + plotW
                        doc.text(mark, x: outside ? end + 4 : end - 4, y: top + h / 2 + labelSize * 0.35, size: labelSize,
                                 anchor: outside ? "start" : "end", bold: true, color: outside ? "#000000" : "#ffffff")
                    }
                    doc.text(bar.label, x: plotX - 4, y: top + h / 2 + labelSize * 0.35, size: labelSize, anchor: "end",
                             bold: bar.highlighted, monospace: p.monospaceLabels)
                    position += 1
                }
                position += 0.6
            }
            doc.line(m(base), plotY, m(base), plotY + plotH, .init(color: Self.axisColor, width: 1))
            doc.text(p.valueLabel, x: plotX + plotW / 2, y: plotY + plotH + 34, size: 12, anchor: "middle")
            return
        }
        let plotX = x + 66, plotY = y + 26
        let plotW = panelWidth - 66 - 16, plotH = panelHeight - 26 - 92
        let m = AxisMap(low: vLow, high: vHigh, pixelLow: plotY + plotH, pixelHigh: plotY, scale: scale)
        let slot = plotW / max(slotCount, 1)
        for t in ticks {
            doc.line(plotX, m(t), plotX + plotW, m(t), .init(color: Self.gridColor, width: 1))
            doc.text(tick(t), x: plotX - 6, y: m(t) + 4, size: 11, anchor: "end")
        }
        var position = 0.0
        for group in p.groups {
            let groupStart = position
            for bar in group.bars {
                let left = plotX + position * slot + slot * 0.14
                let w = slot * 0.72
                doc.rect(x: left, y: min(m(0), m(bar.value)), width: w, height: abs(m(bar.value) - m(0)), fill: bar.color,
                         stroke: bar.highlighted ? .init(color: "#000000", width: 2) : nil)
                if let whisker = bar.whisker {
                    let cx = left + w / 2
                    let stroke = SVGDocument.Stroke(color: "#000000", width: 1.2)
                    doc.line(cx, m(whisker.lowerBound), cx, m(whisker.upperBound), stroke)
                    doc.line(cx - w / 4, m(whisker.lowerBound), cx + w / 4, m(whisker.lowerBound), stroke)
                    doc.line(cx - w / 4, m(whisker.upperBound), cx + w / 4, m(whisker.upperBound), stroke)
                }
                doc.text(bar.label, x: left + w / 2 + 4, y: plotY + plotH + 8, size: 11, anchor: "end", rotate: -45)
                position += 1
            }
            if !group.name.isEmpty {
                let centre = plotX + (groupStart + (position - groupStart) / 2) * slot
                doc.text(group.name, x: centre, y: y + panelHeight - 6, size: 11, anchor: "middle", color: "#555555")
            }
            position += 0.6
        }
        if let reference = p.reference {
            doc.line(plotX, m(reference.value), plotX + plotW, m(reference.value), .init(color: "#000000", width: 1.2, dash: [6, 4]))
            doc.text(reference.label, x: plotX + plotW - 4, y: m(reference.value) - 4, size: 10, anchor: "end")
        }
        doc.line(plotX, m(0), plotX + plotW, m(0), .init(color: Self.axisColor, width: 1))
        doc.line(plotX, plotY, plotX, plotY + plotH, .init(color: Self.axisColor, width: 1))
        doc.text(p.valueLabel, x: x + 14, y: plotY + plotH / 2, size: 12, anchor: "middle", rotate: -90)
    }

    func drawLegend(into doc: inout SVGDocument, x: Double, y: Double) {
        for (i, entry) in legend.enumerated() {
            let rowY = y + 12 + Double(i) * Self.legendRow
            switch entry.kind {
            case .line(let stroke): doc.line(x, rowY - 4, x + 26, rowY - 4, .init(color: stroke.color, width: max(stroke.width, 2), dash: stroke.dash))
            case .swatch(let color): doc.rect(x: x, y: rowY - 10, width: 26, height: 11, fill: color, opacity: 0.85)
            case .point(let color): doc.circle(cx: x + 13, cy: rowY - 4, r: 4, fill: color)
            }
            doc.text(entry.label, x: x + 32, y: rowY, size: 12)
        }
    }
}

/// A continuous colour map (piecewise linear between anchor colours).
public struct ColorMap: Sendable {
    public var anchors: [(Double, Double, Double)]

    /// viridis (perceptually uniform, colour-blind safe), sampled at five points.
    public static let viridis = ColorMap(anchors: [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)])
    /// Diverging blue - light grey - orange (colour-blind safe).
    public static let blueOrange = ColorMap(anchors: [(33, 102, 172), (146, 197, 222), (240, 240, 240), (244, 165, 130), (179, 88, 6)])

    /// The colour at t in [0, 1] as `#rrggbb`.
    public func color(_ t: Double) -> String {
        let t = min(max(t.isFinite ? t : 0, 0), 1) * Double(anchors.count - 1)
        let i = min(Int(t), anchors.count - 2)
        let f = t - Double(i)
        let a = anchors[i], b = anchors[i + 1]
        func channel(_ x: Double, _ y: Double) -> String {
            let v = Int((x + f * (y - x)).rounded())
            let hex = String(v, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }
        return "#" + channel(a.0, b.0) + channel(a.1, b.1) + channel(a.2, b.2)
    }
}
