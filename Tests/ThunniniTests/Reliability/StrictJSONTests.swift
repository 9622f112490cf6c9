import Foundation
import Testing
@testable import Thunnini

/// The duplicate-key scan every JSON reader runs before `JSONDecoder`
/// (which keeps one of two equal keys silently).
@Suite struct StrictJSONTests {
    func duplicate(_ text: String) -> String? { StrictJSON.firstDuplicateKey(in: Data(text.utf8)) }

    @Test func findsTheRepeatedKeyWithItsPath() {
        #expect(duplicate(#"{"a": 1, "a": 2}"#) == "a")
        #expect(duplicate(#"{"x": {"y": [0, {"z": 1, "z": 2}]}}"#) == "x.y[1].z")
        // Escapes are decoded before comparing: "\u0061" is "a" (a byte comparison would miss it).
        #expect(duplicate(#"{"a": 1, "\u0061": 2}"#) == "a")
        #expect(duplicate(#"{"é": 1, "\u00e9": 2}"#) == "é")
    }

    @Test func acceptsEqualKeysInDifferentObjectsAndKeysAsValues() {
        #expect(duplicate(#"{"a": {"b": 1}, "c": {"b": 2}, "d": [{"e": 1}, {"e": 2}]}"#) == nil)
        #expect(duplicate(#"{"a": "a", "b": "a", "c": ["c", "c"]}"#) == nil)
        // A quote or brace inside a string is not structure.
        #expect(duplicate(#"{"a": "}{\"a\":", "b": 1}"#) == nil)
    }

    @Test func deepNestingAndMalformedInputNeitherCrashNorDecide() {
        #expect(duplicate(String(repeating: "[", count: 100_000)) == nil)
        #expect(duplicate(#"{"a": "unterminated"#) == nil)
        #expect(duplicate("}}]]") == nil)
    }

    @Test func everyConfigReaderRefusesDuplicates() throws {
        let text = #"{"batch_size": 8, "batch_size": -1}"#
        #expect(throws: ThunniniError("c.json: duplicate key 'batch_size'")) {
            try decodeConfig(DataGeneratorConfig.self, from: Data(text.utf8), source: "c.json")
        }
    }
}

/// Sizes from input and the memory budget's option.
@Suite struct CheckedSizeTests {
    @Test func productsThatOverflowAreErrors() throws {
        #expect(try checkedProduct([3, 4, 5], "shape") == 60)
        #expect(try checkedProduct([0, Int.max, 2], "shape") == 0)
        #expect(throws: ThunniniError("shape: 4611686018427387904 x 4 is too large")) { try checkedProduct([1 << 62, 4], "shape") }
        #expect(throws: ThunniniError("shape: negative size -1")) { try checkedProduct([2, -1], "shape") }
    }

    @Test func maxMemoryParsesSizesAndRefusesNonsense() throws {
        #expect(MemoryBudget.parse("1000") == 1000)
        #expect(MemoryBudget.parse("512M") == 512 << 20)
        #expect(MemoryBudget.parse("1.5g") == 3 << 29)
        #expect(MemoryBudget.parse("8GB") == 8 << 30)
        for bad in ["", "0", "-1G", "nan", "1e30", "G", "12Q"] { #expect(MemoryBudget.parse(bad) == nil, "\(bad)") }
    }

    @Test func theEstimateNamesItsLargestPartAndTheBudget() {
        var estimate = MemoryEstimate()
        estimate.keep("small", bytes: 10)
        estimate.phase("big (batch_size 9)", bytes: Double(3 << 30))
        estimate.phase("other", bytes: Double(1 << 30))
        #expect(estimate.peakBytes == 10 + Double(3 << 30))  // phases do not add up, only the largest counts
        #expect(throws: ThunniniError("x.json: needs about 3.0 GB of memory, above the budget of 1.0 GB; the largest part is big (batch_size 9) (3.0 GB); reduce it or raise --max-memory")) {
            try estimate.check(source: "x.json", budget: 1 << 30)
        }
        #expect(throws: Never.self) { try estimate.check(source: "x.json", budget: 4 << 30) }
    }
}
