import Foundation
import Testing
@testable import ThunniniReport

/// The SVG writer: tick values people can read, text that cannot break the
/// XML, numbers that do not depend on the locale, bands drawn as one
/// closed outline.
@Suite struct SVGWriterTests {
    @Test func linearTicksAreNiceAndCoverTheRange() {
        #expect(NiceTicks.linear(low: 0, high: 1).ticks == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        #expect(NiceTicks.linear(low: 0.13, high: 7.9).ticks == [0, 2, 4, 6, 8])
        let mixed = NiceTicks.linear(low: -0.37, high: 0.52)
        #expect(mixed.step == 0.2)
        // Zero is exactly zero (not -0 or 1e-17), and labels have the step's decimals.
        #expect(mixed.ticks.map { NiceTicks.label($0, decimals: NiceTicks.decimals(step: mixed.step)) }
                == ["-0.4", "-0.2", "0.0", "0.2", "0.4", "0.6"])
        // A flat range still gets ticks around it.
        #expect(NiceTicks.linear(low: 3, high: 3).ticks.count >= 2)
    }

    @Test func tickDecimalsFollowTheStep() {
        #expect(NiceTicks.decimals(step: 1) == 0)
        #expect(NiceTicks.decimals(step: 10) == 0)
        #expect(NiceTicks.decimals(step: 0.2) == 1)
        #expect(NiceTicks.decimals(step: 0.05) == 2)
    }

    @Test func logarithmicTicks() {
        #expect(NiceTicks.logarithmic(low: 0.01, high: 10) == [0.01, 0.1, 1, 10])
        #expect(NiceTicks.logarithmic(low: 0.1, high: 1) == [0.1, 0.2, 0.5, 1])
    }

    /// Fixed-point, no exponent, no negative zero, no locale.
    @Test func numbersAreFixedAndLocaleIndependent() {
        #expect(SVGNumber.format(3.14159) == "3.14")
        #expect(SVGNumber.format(-2.5) == "-2.5")
        #expect(SVGNumber.format(100) == "100")
        #expect(SVGNumber.format(0.1 + 0.2) == "0.3")
        #expect(SVGNumber.format(-0.0001) == "0")
        #expect(SVGNumber.format(12345.678) == "12345.68")
        #expect(SVGNumber.format(1e-7) == "0")
        #expect(SVGNumber.format(0.5, digits: 0) == "1" || SVGNumber.format(0.5, digits: 0) == "0")
        #expect(NiceTicks.label(2, decimals: 3) == "2.000")
        #expect(NiceTicks.label(0.25, decimals: 3) == "0.250")
    }

    @Test func everyTextIsEscaped() {
        #expect(SVGDocument.escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
        var doc = SVGDocument(width: 10, height: 10, title: "T <&>")
        doc.text("x < y & \"z\"", x: 1, y: 2)
        let svg = doc.render()
        #expect(svg.contains("<title>T &lt;&amp;&gt;</title>"))
        #expect(svg.contains(">x &lt; y &amp; &quot;z&quot;</text>"))
        #expect(isWellFormedXML(svg))
    }

    /// A band is one polygon: the upper curve left to right, then the lower
    /// curve right to left (a wrong order draws a self-crossing bow tie).
    @Test func bandIsOneClosedOutline() {
        let panel = XYPanel(title: "band", xLabel: "x", yLabel: "y", xRange: 0...2, yRange: 0...2,
                            items: [.band(xs: [0, 1, 2], lower: [0, 0, 0], upper: [1, 2, 1], color: "#ff0000", opacity: 0.5)])
        let svg = Figure(title: "t", panels: [.xy(panel)], columns: 1).render()
        // Plot area: x 66 ... 404 (width 420 - 66 - 16), y 60 ... 282 (title 34 + top margin 26, height 300 - 26 - 52).
        #expect(svg.contains("<polygon points=\"66,171 235,60 404,171 404,282 235,282 66,282\" fill=\"#ff0000\" fill-opacity=\"0.5\""), "\(svg)")
        #expect(isWellFormedXML(svg))
    }

    @Test func colorMapsAreHexAtTheEnds() {
        #expect(ColorMap.viridis.color(0) == "#440154")
        #expect(ColorMap.viridis.color(1) == "#fde725")
        #expect(ColorMap.viridis.color(.nan) == "#440154")
    }
}
