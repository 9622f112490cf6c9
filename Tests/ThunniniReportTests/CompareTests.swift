import Foundation
import Testing
@testable import Thunnini
@testable import ThunniniReport

/// `report --compare A B`: identical for the same experiment run twice;
/// differences with a within-sampling-error verdict for two seed sets.
@Suite(.serialized) final class CompareTests {
    let scratch: URL
    init() throws { scratch = try makeScratchDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    var tiny: URL { reportPackageRoot.appendingPathComponent("Golden/report/tiny.json") }

    func run(_ experiment: URL, _ name: String, seedOffset: Int = 0) throws -> URL {
        let out = scratch.appendingPathComponent(name)
        var spec = try ExperimentSpec.load(from: experiment)
        spec = spec.offsettingSeeds(by: seedOffset)
        try ExperimentRunner(spec: spec, reportsProgress: false).run().write(to: out)
        return out
    }

    /// The same experiment run twice (two processes would do the same: runs
    /// are deterministic) compares as byte-identical, every number identical.
    @Test func sameExperimentTwiceIsIdentical() throws {
        let a = try run(tiny, "a"), b = try run(tiny, "b")
        let out = scratch.appendingPathComponent("cmp-same")
        let outcome = try runProcess(thunniniRefExecutable, ["report", "--compare", a.path, b.path, "--out", out.path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.hasPrefix("the two results folders are identical"), "\(outcome.stdout)")
        let markdown = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(markdown.contains("| identical |") && !markdown.contains("| yes |") && !markdown.contains("**no**"))
    }

    /// Another seed set: the numbers differ, and each difference is judged
    /// against sqrt(SE_A^2 + SE_B^2), recomputed here from the two rows'
    /// standard errors. A changed per-sequence file alone (same summaries)
    /// must still count as a difference. Catches a comparison that reads one
    /// folder twice, or calls different folders identical.
    @Test func anotherSeedSetDiffersWithinOrBeyondSamplingError() throws {
        let a = try run(tiny, "s0"), b = try run(tiny, "s5", seedOffset: 5)
        let outcome = Comparison.compare(try ResultsFolder.load(from: a), try ResultsFolder.load(from: b))
        #expect(!outcome.byteIdentical && !outcome.differingFiles.isEmpty)
        #expect(outcome.rows.count > 20 && outcome.rows.filter { !$0.identical }.count > outcome.rows.count / 2)
        for row in outcome.rows {
            let bound = 2 * (row.a.standardError * row.a.standardError + row.b.standardError * row.b.standardError).squareRoot()
            #expect(row.withinSamplingError == (abs(row.b.mean - row.a.mean) <= bound))
        }
        let cli = try runProcess(thunniniRefExecutable, ["report", "--compare", a.path, b.path, "--out", scratch.appendingPathComponent("cmp").path])
        #expect(cli.status == 0 && cli.stdout.contains("numbers differ;") && cli.stdout.contains("beyond sampling error"), "\(cli.stdout)")
    }

    /// Anything but two results folders is one error line.
    @Test func refusesWrongInputs() throws {
        let out = scratch.appendingPathComponent("cmp-bad")
        for arguments in [["--compare", tiny.path], ["--compare", tiny.path, tiny.path]] {
            let outcome = try runProcess(thunniniRefExecutable, ["report"] + arguments + ["--out", out.path])
            #expect(outcome.status != 0 && outcome.errorLines.count == 1, "\(outcome.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }
}
