import Foundation
import Testing
@testable import Thunnini

/// Every input the fuzzers (Tests/Fuzz) ever crashed on, kept under
/// Tests/Fuzz/regressions/TARGET/, run through the same reader as the fuzz
/// target: each must now end in a `ThunniniError`. Before the fixes they
/// trapped inside ZIPFoundation ("Range requires lowerBound <= upperBound"),
/// which no `#expect` can catch: the test process itself would die.
@Suite struct FuzzRegressionTests {
    static func inputs(_ target: String) -> [URL] {
        let directory = repositoryRoot().appendingPathComponent("Tests/Fuzz/regressions/\(target)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appendingPathComponent($0) }
    }

    @Test func npzCrashesAreErrors() throws {
        let inputs = Self.inputs("npz")
        #expect(!inputs.isEmpty)
        for input in inputs {
            #expect(throws: ThunniniError.self, "\(input.lastPathComponent)") { try NPZ.read(try Data(contentsOf: input), source: "fuzz.npz") }
        }
    }

    @Test func bundleCrashesAreErrors() throws {
        let inputs = Self.inputs("bundle")
        #expect(!inputs.isEmpty)
        let separator = Data("\n--arrays.npz--\n".utf8)
        for input in inputs {
            let data = try Data(contentsOf: input)
            let split = try #require(data.range(of: separator))
            let npz = Data(data[split.upperBound...])
            #expect(throws: ThunniniError.self, "\(input.lastPathComponent)") {
                try CrosscheckBundle.load(json: Data(data[..<split.lowerBound]), jsonSource: "bundle.json",
                                          npz: { try NPZ.read(npz, source: "arrays.npz") }, npzSource: "arrays.npz")
            }
        }
    }

    @Test func theLocalHeaderCrashNamesTheBadOffset() throws {
        let input = repositoryRoot().appendingPathComponent("Tests/Fuzz/regressions/npz/local-header-past-end.npz")
        #expect(throws: ThunniniError("x.npz: corrupt zip archive (the local header of entry 0 at 16777216 is missing)")) {
            try NPZ.read(try Data(contentsOf: input), source: "x.npz")
        }
    }
}
