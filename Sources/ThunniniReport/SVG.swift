/// A small SVG writer: just the elements the report's figures use, every
/// number printed by `SVGNumber` (fixed, locale-independent) and every text
/// XML-escaped, so that the same figure is always the same bytes.
public struct SVGDocument {
    public let width: Double
    public let height: Double
    /// The figure's `<title>` (what screen readers and tooltips show).
    public let title: String
    private var body: [String] = []
    private var definitions: [String] = []
    private var clipCount = 0

    public init(width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        self.title = title
    }

    /// A stroke style: colour, width, dash pattern (nil: solid), opacity.
    public struct Stroke: Equatable, Sendable {
        public var color: String
        public var width: Double = 1.5
        public var dash: [Double]? = nil
        public var opacity: Double = 1
        public init(color: String, width: Double = 1.5, dash: [Double]? = nil, opacity: Double = 1) {
            self.color = color
            self.width = width
            self.dash = dash
            self.opacity = opacity
        }
        var attributes: String {
            var a = "fill=\"none\" stroke=\"\(SVGDocument.escape(color))\" stroke-width=\"\(SVGNumber.format(width))\""
            if let dash { a += " stroke-dasharray=\"\(dash.map { SVGNumber.format($0) }.joined(separator: " "))\"" }
            if opacity < 1 { a += " stroke-opacity=\"\(SVGNumber.format(opacity, digits: 3))\"" }
            return a
        }
    }

    /// A clip rectangle; returns its id for `clipped`.
    public mutating func clipRect(x: Double, y: Double, width: Double, height: Double) -> String {
        clipCount += 1
        let id = "clip\(clipCount)"
        definitions.append("<clipPath id=\"\(id)\"><rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(height))\"/></clipPath>")
        return id
    }

    /// Starts a group clipped to `clip` (close it with `endGroup`).
    public mutating func beginGroup(clip: String? = nil) {
        body.append(clip.map { "<g clip-path=\"url(#\($0))\">" } ?? "<g>")
    }

    public mutating func endGroup() { body.append("</g>") }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ stroke: Stroke) {
        body.append("<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" \(stroke.attributes)/>")
    }

    /// A polyline through `points`; non-finite points split it into pieces.
    public mutating func polyline(_ points: [(Double, Double)], _ stroke: Stroke) {
        var piece: [String] = []
        func flush() {
            if piece.count >= 2 { body.append("<polyline points=\"\(piece.joined(separator: " "))\" \(stroke.attributes) stroke-linejoin=\"round\"/>") }
            piece = []
        }
        for (x, y) in points {
            if x.isFinite && y.isFinite { piece.append("\(n(x)),\(n(y))") } else { flush() }
        }
        flush()
    }

    /// A filled polygon (bands).
    public mutating func polygon(_ points: [(Double, Double)], fill: String, opacity: Double) {
        let finite = points.filter { $0.0.isFinite && $0.1.isFinite }
        guard finite.count >= 3 else { return }
        body.append("<polygon points=\"\(finite.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " "))\" fill=\"\(SVGDocument.escape(fill))\" "
            + "fill-opacity=\"\(SVGNumber.format(opacity, digits: 3))\" stroke=\"none\"/>")
    }

    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                              stroke: Stroke? = nil, opacity: Double = 1) {
        var a = "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(max(width, 0)))\" height=\"\(n(max(height, 0)))\" fill=\"\(SVGDocument.escape(fill))\""
        if opacity < 1 { a += " fill-opacity=\"\(SVGNumber.format(opacity, digits: 3))\"" }
        if let stroke { a += " stroke=\"\(SVGDocument.escape(stroke.color))\" stroke-width=\"\(n(stroke.width))\"" }
        body.append(a + "/>")
    }

    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String, opacity: Double = 1) {
        guard cx.isFinite && cy.isFinite else { return }
        // One decimal is a tenth of a pixel: enough for points, and it keeps scatter plots small.
        var a = "<circle cx=\"\(SVGNumber.format(cx, digits: 1))\" cy=\"\(SVGNumber.format(cy, digits: 1))\" r=\"\(n(r))\" fill=\"\(SVGDocument.escape(fill))\""
        if opacity < 1 { a += " fill-opacity=\"\(SVGNumber.format(opacity, digits: 3))\"" }
        body.append(a + "/>")
    }

    /// Text anchored at (x, y) (`anchor`: start, middle, end), optionally rotated about that point.
    public mutating func text(_ string: String, x: Double, y: Double, size: Double = 13, anchor: String = "start",
                              bold: Bool = false, rotate: Double? = nil, color: String = "#222222", monospace: Bool = false) {
        var a = "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor)\" fill=\"\(SVGDocument.escape(color))\""
        if bold { a += " font-weight=\"bold\"" }
        if monospace { a += " font-family=\"DejaVu Sans Mono, monospace\"" }
        if let rotate { a += " transform=\"rotate(\(n(rotate)) \(n(x)) \(n(y)))\"" }
        body.append(a + ">\(SVGDocument.escape(string))</text>")
    }

    /// The whole document.
    public func render() -> String {
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
                     + "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"DejaVu Sans, Arial, sans-serif\">",
                     "<title>\(SVGDocument.escape(title))</title>"]
        if !definitions.isEmpty { lines.append("<defs>" + definitions.joined() + "</defs>") }
        lines.append("<rect x=\"0\" y=\"0\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"#ffffff\"/>")
        lines += body
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// XML escaping of text and attribute values (&, <, >, ", ').
    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // Control characters are not allowed in XML 1.0 text.
                if let scalar = c.unicodeScalars.first, c.unicodeScalars.count == 1, scalar.value < 0x20, scalar != "\n", scalar != "\t" {
                    out += "?"
                } else {
                    out.append(c)
                }
            }
        }
        return out
    }

    private func n(_ x: Double) -> String { SVGNumber.format(x) }
}

/// Fixed-point number formatting that depends on nothing but the value:
/// at most `digits` decimals, trailing zeros dropped, no exponent, no
/// locale, no negative zero.
public enum SVGNumber {
    public static func format(_ x: Double, digits: Int = 2) -> String {
        guard x.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(x) * scale).rounded()
        guard scaled < 9e15 else { return x < 0 ? "-9e15" : "9e15" }
        let units = UInt64(scaled)
        let whole = units / UInt64(scale)
        var fraction = units % UInt64(scale)
        var fractionDigits = digits
        while fractionDigits > 0 && fraction % 10 == 0 { fraction /= 10; fractionDigits -= 1 }
        var s = units == 0 ? "0" : (x < 0 ? "-" : "") + String(whole)
        if units != 0 && fractionDigits > 0 {
            let f = String(fraction)
            s += "." + String(repeating: "0", count: fractionDigits - f.count) + f
        }
        return s
    }
}

/// Tick positions that people like to read: 1, 2 or 5 times a power of ten.
public enum NiceTicks {
    /// A "nice" number near `x` (> 0): rounded to 1, 2, 5 or 10 times a power of ten.
    static func nice(_ x: Double, round: Bool) -> Double {
        let exponent = (log10(x)).rounded(.down)
        let power = pow(10, exponent)
        let f = x / power
        let niceFraction: Double
        if round {
            niceFraction = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
        } else {
            niceFraction = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
        }
        return niceFraction * power
    }

    /// Ticks covering [low, high] with about `count` steps: (first, last, step)
    /// with first <= low and last >= high, all multiples of step.
    public static func linear(low: Double, high: Double, count: Int = 5) -> (ticks: [Double], step: Double) {
        var low = low, high = high
        if !(high > low) {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        let step = nice((high - low) / Double(max(count, 1)), round: true)
        let first = (low / step).rounded(.down)
        let last = (high / step).rounded(.up)
        var ticks: [Double] = []
        var i = first
        while i <= last + 0.5 {
            let t = i * step
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            i += 1
        }
        return (ticks, step)
    }

    /// Decimals needed to print ticks `step` apart exactly.
    public static func decimals(step: Double) -> Int {
        max(0, Int((-log10(step)).rounded(.up) + 1e-9))
    }

    /// Decade ticks (10^k) covering [low, high] (both > 0), with 2 and 5
    /// times each decade added when fewer than three decades are covered.
    public static func logarithmic(low: Double, high: Double) -> [Double] {
        let first = floor(log10(low)), last = ceil(log10(high))
        var ticks: [Double] = []
        var k = first
        while k <= last {
            let decade = pow(10, k)
            ticks.append(decade)
            if last - first < 3 && k < last { ticks += [2 * decade, 5 * decade] }
            k += 1
        }
        return ticks
    }

    /// A tick label: `decimals` fixed decimals (locale-independent).
    public static func label(_ value: Double, decimals: Int) -> String {
        var s = SVGNumber.format(value, digits: decimals)
        if decimals > 0 && !s.contains(".") { s += "." + String(repeating: "0", count: decimals) }
        else if decimals > 0 {
            let have = s.count - (s.firstIndex(of: ".").map { s.distance(from: s.startIndex, to: $0) } ?? 0) - 1
            if have < decimals { s += String(repeating: "0", count: decimals - have) }
        }
        return s
    }
}

import Foundation
