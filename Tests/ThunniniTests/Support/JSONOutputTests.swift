import Foundation
import Testing
@testable import Thunnini

@Suite struct JSONOutputTests {
    struct Sample: Codable, Equatable {
        var zeta: Int
        var alpha: [Double]
        var nested: [String: Double]
        var path: String
    }

    /// Doubles that stress the shortest round-trip representation.
    let awkward: [Double] = [0.1, 0.1 + 0.2, 1.0 / 3.0, 1e-300, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                             100, 1e16, 1e21, -0.0, 2.5e-5, .pi, -63.12341234123412, Double(Int64.max)]

    @Test func doublesRoundTripBitForBit() throws {
        let data = try JSONOutput.encode(awkward)
        let decoded = try JSONOutput.decode([Double].self, from: data, source: "t")
        #expect(decoded.map(\.bitPattern) == awkward.map(\.bitPattern))
    }

    @Test func doublesUseTheShortestRepresentation() throws {
        let text = String(decoding: try JSONOutput.encode([0.1, 0.1 + 0.2, 1.0 / 3.0]), as: UTF8.self)
        #expect(text == "[\n  0.1,\n  0.30000000000000004,\n  0.3333333333333333\n]\n")
    }

    @Test func keysAreSortedAndOutputIsPretty() throws {
        let sample = Sample(zeta: 1, alpha: [2], nested: ["b": 1, "a": 2], path: "a/b")
        let text = String(decoding: try JSONOutput.encode(sample), as: UTF8.self)
        #expect(text == """
            {
              "alpha" : [
                2
              ],
              "nested" : {
                "a" : 2,
                "b" : 1
              },
              "path" : "a/b",
              "zeta" : 1
            }

            """)
    }

    @Test func reEncodingIsByteIdentical() throws {
        let sample = Sample(zeta: -3, alpha: awkward, nested: ["x": 1e-7, "w": 7, "y": 0.7], path: "tuning/SoftPT")
        let first = try JSONOutput.encode(sample)
        let second = try JSONOutput.encode(JSONOutput.decode(Sample.self, from: first, source: "t"))
        #expect(first == second)
        // And independent of the order in which dictionary entries were inserted.
        var reordered: [String: Double] = [:]
        for key in ["y", "x", "w"] { reordered[key] = sample.nested[key] }
        var other = sample
        other.nested = reordered
        #expect(try JSONOutput.encode(other) == first)
    }

    @Test func nonFiniteValuesAreStrings() throws {
        let values = [Double.nan, .infinity, -.infinity, 1]
        let data = try JSONOutput.encode(values)
        #expect(String(decoding: data, as: UTF8.self) == "[\n  \"NaN\",\n  \"Infinity\",\n  \"-Infinity\",\n  1\n]\n")
        let decoded = try JSONOutput.decode([Double].self, from: data, source: "t")
        #expect(decoded[0].isNaN && decoded[1] == .infinity && decoded[2] == -.infinity && decoded[3] == 1)
    }

    @Test func decodingErrorsNameTheSource() {
        expectThunniniError(["curve.json", "'zeta' must be an integer"]) {
            _ = try JSONOutput.decode(Sample.self, from: Data(#"{"zeta": "x", "alpha": [], "nested": {}, "path": ""}"#.utf8), source: "curve.json")
        }
    }
}
