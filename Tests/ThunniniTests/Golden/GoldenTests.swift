import Foundation
import Testing
@testable import Thunnini

/// Every registered golden case still reproduces its file under Golden/.
@Suite struct GoldenRegistryTests {
    @Test func registryHasUniqueNames() {
        let names = GoldenRegistry.cases.map(\.name)
        #expect(!names.isEmpty)
        #expect(Set(names).count == names.count)
    }

    @Test(arguments: GoldenRegistry.cases.map(\.name))
    func matchesGoldenFile(caseName: String) throws {
        let goldenCase = try #require(GoldenRegistry.cases.first { $0.name == caseName })
        let mismatches = try GoldenFile.compare(goldenCase, against: repositoryRoot().appendingPathComponent("Golden"))
        #expect(mismatches.isEmpty, "\(mismatches.map(\.description).joined(separator: "; "))")
    }

    @Test func noOrphanedGoldenFiles() {
        let orphans = GoldenFile.orphanedFiles(in: repositoryRoot().appendingPathComponent("Golden"), cases: GoldenRegistry.cases)
        #expect(orphans.isEmpty, "\(orphans.map(\.lastPathComponent))")
    }
}

@Suite struct GoldenFileTests {
    let arrays: [(String, Tensor)] = [
        ("a/b", Tensor(shape: [2, 2], storage: [0.1, -1.0 / 3, .nan, -.infinity])),
        ("s", Tensor(scalar: 5e-324)),
        ("empty", Tensor(shape: [0, 4])),
    ]

    func fixedCase(_ arrays: [(String, Tensor)], name: String = "fixed") -> GoldenCase {
        GoldenCase(name: name) { arrays }
    }

    @Test func textRoundTripsBitForBit() throws {
        let text = try GoldenFile.render(caseName: "x", arrays: arrays)
        let parsed = try GoldenFile.parse(text, source: "x")
        #expect(parsed.map(\.0) == arrays.map(\.0))
        for ((_, read), (_, original)) in zip(parsed, arrays) {
            #expect(read.shape == original.shape)
            for (value, expected) in zip(read.storage, original.storage) {
                #expect(value.bitPattern == expected.bitPattern || (value.isNaN && expected.isNaN))
            }
        }
        #expect(text.contains("\na/b shape=[2,2]\n0.1\n-0.3333333333333333\nnan\n-inf\n"))
        #expect(text.contains("\ns shape=[]\n5e-324\n"))
    }

    @Test func writeThenCompareMatches() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try GoldenFile.write(fixedCase(arrays), to: directory)
        #expect(try GoldenFile.compare(fixedCase(arrays), against: directory).isEmpty)
    }

    @Test func detectsChangedValuesBeyondTolerance() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let values = [("v", Tensor(shape: [3], storage: [1, 2, 3]))]
        try GoldenFile.write(fixedCase(values), to: directory)
        // A last-ulp difference (2.2e-16 relative) is inside 1e-12 relative.
        let ulp = [("v", Tensor(shape: [3], storage: [1, 2, 3.0.nextUp]))]
        #expect(try GoldenFile.compare(fixedCase(ulp), against: directory).isEmpty)
        // 1e-11 relative is a real change.
        let changed = [("v", Tensor(shape: [3], storage: [1, 2 * (1 + 1e-11), 3]))]
        let mismatches = try GoldenFile.compare(fixedCase(changed), against: directory)
        #expect(mismatches.count == 1)
        #expect(mismatches.first?.arrayName == "v")
        #expect(mismatches.first?.problem.contains("[1]") == true)
    }

    @Test func detectsShapeMissingAndExtraArrays() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try GoldenFile.write(fixedCase([("a", Tensor(shape: [2])), ("b", Tensor(scalar: 1))]), to: directory)
        let produced = [("a", Tensor(shape: [1, 2])), ("c", Tensor(scalar: 1))]
        let problems = try GoldenFile.compare(fixedCase(produced), against: directory).map(\.description)
        #expect(problems.count == 3)
        #expect(problems.contains { $0.contains("a: shape mismatch") })
        #expect(problems.contains { $0.contains("c: not in the golden file") })
        #expect(problems.contains { $0.contains("b: in the golden file but no longer produced") })
    }

    @Test func missingFileIsAMismatch() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let problems = try GoldenFile.compare(fixedCase(arrays), against: directory)
        #expect(problems.count == 1 && problems[0].problem.contains("no golden file"))
    }

    @Test func orphanedFilesAreListed() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try GoldenFile.write(fixedCase(arrays, name: "old"), to: directory)
        try GoldenFile.write(fixedCase(arrays, name: "kept"), to: directory)
        #expect(GoldenFile.orphanedFiles(in: directory, cases: [fixedCase(arrays, name: "kept")]).map(\.lastPathComponent)
                == ["old.golden.txt"])
    }

    @Test func rejectsBadNamesAndMalformedFiles() {
        expectThunniniError(["array name", "has space"]) { _ = try GoldenFile.render(caseName: "x", arrays: [("has space", Tensor(scalar: 1))]) }
        expectThunniniError(["case name", "a/b"]) { _ = try GoldenFile.render(caseName: "a/b", arrays: []) }
        expectThunniniError(["'d'", "produced twice"]) {
            _ = try GoldenFile.render(caseName: "x", arrays: [("d", Tensor(scalar: 1)), ("d", Tensor(scalar: 2))])
        }
        expectThunniniError(["f.txt:2", "has 1 values", "needs 2"]) { _ = try GoldenFile.parse("\nv shape=[2]\n1\n", source: "f.txt") }
        expectThunniniError(["f.txt:2", "not a number"]) { _ = try GoldenFile.parse("v shape=[1]\nabc\n", source: "f.txt") }
        expectThunniniError(["f.txt:1", "header"]) { _ = try GoldenFile.parse("v [1]\n1\n", source: "f.txt") }
    }
}
