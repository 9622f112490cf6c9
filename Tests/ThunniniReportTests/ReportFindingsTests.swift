import Foundation
import Testing
@testable import Thunnini
@testable import ThunniniReport

/// The findings read the medians at N_tune on the tuning target and compare
/// the right methods.
@Suite struct ReportFindingsTests {
    func goldenFolder() throws -> ResultsFolder {
        try ResultsFolder.load(from: reportPackageRoot.appendingPathComponent(ReportGolden.resultsPath))
    }

    /// `folder` with the N_tune medians of two methods on the target swapped.
    func swapping(_ a: String, _ b: String, in folder: ResultsFolder) -> ResultsFolder {
        var summaries = folder.summaries
        let target = "Single Coin"
        let ia = summaries.firstIndex { $0.source == target && $0.method == a }!
        let ib = summaries.firstIndex { $0.source == target && $0.method == b }!
        let marksA = summaries[ia].cumulativeRegretAtMarks, marksB = summaries[ib].cumulativeRegretAtMarks
        summaries[ia].cumulativeRegretAtMarks = marksB
        summaries[ib].cumulativeRegretAtMarks = marksA
        return ResultsFolder(url: folder.url, spec: folder.spec, pretraining: folder.pretraining, tuningCurves: folder.tuningCurves,
                             hardPrefixes: folder.hardPrefixes, summaries: summaries, sequences: folder.sequences,
                             exampleLogProbs: folder.exampleLogProbs, dynamics: folder.dynamics)
    }

    func finding(_ fragment: String, in findings: [Finding]) throws -> Finding {
        try #require(findings.first { $0.statement.contains(fragment) }, "no finding containing '\(fragment)'")
    }

    /// In the golden run SoftPT is the best prefix method and FullWT beats
    /// them all; making SoftPT's number SimplexPT's (and vice versa) must flip
    /// the first, and making FullWT's number the worst prefix method's must
    /// flip the second. Catches a finding that reads another source, another
    /// n, or compares against the wrong methods.
    @Test func findingsFollowTheNumbers() throws {
        let folder = try goldenFolder()
        let findings = Findings.check(folder)
        #expect(findings.count == 6)
        #expect(try finding("is the best prefix method", in: findings).holds)
        #expect(try finding("beats every prefix method", in: findings).holds)
        #expect(try !finding("every tuned method has lower cumulative regret than NoTuning", in: findings).holds)

        let softSwapped = Findings.check(swapping("SoftPT", "SimplexPT", in: folder))
        #expect(try !finding("is the best prefix method", in: softSwapped).holds)

        let fullSwapped = Findings.check(swapping("FullWT", "RealPT", in: folder))
        #expect(try !finding("beats every prefix method", in: fullSwapped).holds)
    }

    /// Without a source equal to the tuning source there is no target, and no findings.
    @Test func noTargetNoFindings() throws {
        let folder = try goldenFolder()
        var spec = folder.spec
        spec.evalDataConfigs.removeFirst()
        let cut = ResultsFolder(url: folder.url, spec: spec, pretraining: folder.pretraining, tuningCurves: folder.tuningCurves,
                                hardPrefixes: folder.hardPrefixes, summaries: folder.summaries.filter { $0.source != "Single Coin" },
                                sequences: folder.sequences, exampleLogProbs: folder.exampleLogProbs, dynamics: folder.dynamics)
        #expect(Findings.check(cut).isEmpty)
    }
}
