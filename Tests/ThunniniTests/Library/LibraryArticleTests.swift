import Foundation
import Testing

/// The article "Using Thunnini as a library" (Sources/Thunnini/Thunnini.docc)
/// shows code that must compile and run against the public API. Its one
/// Swift block is the whole of `UsingThunniniAsALibrary.swift` in this
/// folder, which imports `Thunnini` without `@testable`, so an internal
/// symbol in the article fails to compile here.
@Suite struct LibraryArticleTests {
    static let article = "Sources/Thunnini/Thunnini.docc/UsingThunniniAsALibrary.md"

    /// The Swift code blocks of a markdown text, in order.
    static func swiftBlocks(_ markdown: String) -> [String] {
        markdown.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```").first ?? "" }
    }

    /// What the consumer package of `Tests/Consumer/run.sh` prints for the
    /// article's function: each number in Swift's shortest round-trip form.
    static func describe(_ result: (pretrained: Double, tuned: Double, exactRegret: Double)) -> String {
        "pretrained \(result.pretrained) tuned \(result.tuned) exact_regret \(result.exactRegret)\n"
    }

    /// Catches an article edited without its compiled copy (or the reverse).
    @Test func theArticlesCodeIsTheCompiledFile() throws {
        let root = repositoryRoot()
        let markdown = try String(contentsOf: root.appendingPathComponent(Self.article), encoding: .utf8)
        let compiled = try String(contentsOf: root.appendingPathComponent("Tests/ThunniniTests/Library/UsingThunniniAsALibrary.swift"), encoding: .utf8)
        #expect(Self.swiftBlocks(markdown) == [compiled])
    }

    /// Runs the article's function. The numbers are pinned in
    /// `Tests/Consumer/expected-output.txt`, which the consumer package (the
    /// library built as a dependency, for the toolchain's default CPU, in a
    /// debug build) must print too: a result that depended on the build
    /// (instruction set, optimisation) would differ in the last bits. It
    /// also catches tuning that does not move the prefix toward the coin.
    @Test func theArticlesExampleRunsAndMatchesTheConsumerPackage() throws {
        let result = try pretrainTuneAndCompare()
        let expected = try String(contentsOf: repositoryRoot().appendingPathComponent("Tests/Consumer/expected-output.txt"), encoding: .utf8)
        #expect(Self.describe(result) == expected)
        #expect(result.tuned < result.pretrained, "tuning the prefix on the coin should lower the loss on the coin")
        #expect(result.exactRegret > 0)
    }
}
