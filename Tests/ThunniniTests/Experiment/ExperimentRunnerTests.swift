import Foundation
import Testing
@testable import Thunnini

@Suite struct ExperimentRunnerTests {
    static func smokeSpec() throws -> ExperimentSpec {
        try ExperimentSpec.load(from: repositoryRoot().appendingPathComponent("Docs/examples/smoke.json"))
    }

    /// Every file under `directory`, relative path -> bytes.
    static func contents(of directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let url as URL in enumerator where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            files[String(url.path.dropFirst(directory.path.count))] = try Data(contentsOf: url)
        }
        return files
    }

    @Test("the same experiment file gives byte-identical result files")
    func determinism() throws {
        let scratch = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let spec = try Self.smokeSpec()
        for run in ["a", "b"] {
            try ExperimentRunner(spec: spec, reportsProgress: false).run().write(to: scratch.appendingPathComponent(run))
        }
        let a = try Self.contents(of: scratch.appendingPathComponent("a"))
        let b = try Self.contents(of: scratch.appendingPathComponent("b"))
        #expect(a.count > 20)
        #expect(a == b)
        #expect(a["/summary.md"] != nil && a["/config.json"] != nil && a["/parameters.npz"] != nil)
    }

    @Test("the smoke experiment has every method and baseline where it belongs")
    func contentsOfTheSmokeRun() throws {
        let spec = try Self.smokeSpec()
        let results = try ExperimentRunner(spec: spec, reportsProgress: false).run()
        let summaries = results.summaries()
        func summary(_ source: String, _ method: String) -> ExperimentResults.RegretSummary? {
            summaries.first { $0.source == source && $0.method == method }
        }
        // Repetitions: RealPT has 2, and RandomPF evaluates RealPT's two initial prefixes.
        #expect(summary("Two-Coin Mixture", "RealPT")?.repetitions == 2)
        #expect(summary("Two-Coin Mixture", "RandomPF")?.repetitions == 2)
        #expect(results.tuningRuns["RealPT"]?.count == 2)
        #expect(results.tuningRuns["RealPT"]![0].initialPrefix != results.tuningRuns["RealPT"]![1].initialPrefix)
        // num_tuning_steps + 1 steps per run.
        #expect(results.tuningRuns["FullWT"]![0].losses.count == 4)
        // The tuning source is labelled TargetBayes, the other EvalBayes; ground truth has zero regret.
        #expect(summary("Two-Coin Mixture", "TargetBayes") != nil && summary("Two-Coin Mixture", "EvalBayes") == nil)
        #expect(summary("Random Coins", "EvalBayes") != nil && summary("Random Coins", "TargetBayes") == nil)
        #expect(summary("Random Coins", "GroundTruth")!.cumulativeRegret[0].allSatisfy { $0 == 0 })
        // PreBayes on the pretraining source is that source's own Bayes predictor.
        #expect(summary("Random Coins", "PreBayes")!.instantRegret == summary("Random Coins", "EvalBayes")!.instantRegret)
        // Every method is evaluated on every source.
        for method in ["RealPT", "SoftPT", "FullWT", "EmbedWT", "HardPT", "NoTuning", "PreBayes", "PreBayesPT", "RandomPF", "GroundTruth", "Untrained"] {
            for source in ["Two-Coin Mixture", "Random Coins"] { #expect(summary(source, method) != nil, "\(method) on \(source)") }
        }
        // A Bayes predictor with the best hard prefix is no worse on the search sequences than with none.
        // (Every candidate's loss is checked against its own oracle in HardPrefixOracleTests.)
        let search = results.hardPrefixes["PreBayesPT"]!
        let winner = search.candidateLosses.firstIndex(of: search.candidateLosses.min()!)!
        #expect(search.candidateLosses.count == 4 && search.loss == search.candidateLosses[winner])
        #expect(search.tokens == [1 - winner / 2, 1 - winner % 2], "the first minimum, in the documented order")
    }

    @Test("an existing result directory is not overwritten by accident")
    func refusesToOverwrite() throws {
        let scratch = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let spec = try Self.smokeSpec()
        let results = try ExperimentRunner(spec: spec, reportsProgress: false).run()
        let out = scratch.appendingPathComponent("out")
        try results.write(to: out)
        expectThunniniError(["already exists"]) { try results.write(to: out) }
        try results.write(to: out, overwrite: true)
    }
}
