import Foundation
import Testing
@testable import Thunnini
@testable import ThunniniReport

/// The report as a user gets it: the golden rendering of a fixed results
/// folder, files that parse and render, links that resolve, byte-identical
/// reruns, and one clear error for bad input with nothing half-written.
@Suite(.serialized) final class ReportTests {
    let scratch: URL
    init() throws { scratch = try makeScratchDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    var goldenResults: String { reportPackageRoot.appendingPathComponent(ReportGolden.resultsPath).path }

    /// Golden/report/expected is exactly the rendering of Golden/report/results
    /// (regenerate with `thunnini-ref golden --update` after a deliberate change).
    @Test func goldenRenderingMatchesByteForByte() throws {
        let problems = try ReportGolden.compare(root: reportPackageRoot)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// Every SVG is well-formed XML with a <title> and renders with rsvg-convert;
    /// every link and image in the markdown resolves to a file.
    @Test func everyFigureParsesAndRendersAndEveryLinkResolves() throws {
        let expected = reportPackageRoot.appendingPathComponent(ReportGolden.expectedPath)
        let files = filesUnder(expected)
        let svgs = files.filter { $0.hasSuffix(".svg") }
        #expect(svgs.count >= 7, "\(files)")
        for svg in svgs {
            let text = try String(contentsOf: expected.appendingPathComponent(svg), encoding: .utf8)
            #expect(isWellFormedXML(text), "\(svg) is not well-formed XML")
            #expect(text.components(separatedBy: "<title>").count == 2, "\(svg): one <title>")
            let png = scratch.appendingPathComponent(svg.replacingOccurrences(of: "/", with: "_") + ".png")
            let outcome = try runProcess(URL(fileURLWithPath: "/usr/bin/rsvg-convert"), ["-o", png.path, expected.appendingPathComponent(svg).path])
            #expect(outcome.status == 0, "rsvg-convert \(svg): \(outcome.stderr)")
            #expect(FileManager.default.fileExists(atPath: png.path))
        }
        let markdown = try String(contentsOf: expected.appendingPathComponent("README.md"), encoding: .utf8)
        let links = localLinks(in: markdown)
        #expect(Set(links.filter { $0.hasPrefix("figures/") }) == Set(svgs), "every figure is shown, and only those")
        for link in links {
            #expect(FileManager.default.fileExists(atPath: expected.appendingPathComponent(link).path), "broken link \(link)")
        }
    }

    /// No text of any golden figure reaches outside the figure (titles,
    /// marks such as "chosen", tick and legend labels), by a generous width
    /// estimate. Catches a title longer than its figure or a mark placed after
    /// a bar that ends at the panel's edge.
    @Test func noTextLeavesItsFigure() throws {
        let expected = reportPackageRoot.appendingPathComponent(ReportGolden.expectedPath)
        for svg in filesUnder(expected).filter({ $0.hasSuffix(".svg") }) {
            let text = try String(contentsOf: expected.appendingPathComponent(svg), encoding: .utf8)
            let outside = textsOutside(svg: text) { Figure.estimatedTextWidth($0, size: $1, bold: $2) }
            #expect(outside.isEmpty, "\(svg): \(outside)")
        }
    }

    /// Two separate processes render the same folder to byte-identical files.
    @Test func renderingIsByteIdenticalAcrossProcesses() throws {
        let a = scratch.appendingPathComponent("a"), b = scratch.appendingPathComponent("b")
        for out in [a, b] {
            let outcome = try runProcess(thunniniRefExecutable, ["report", goldenResults, "--out", out.path, "--quiet"])
            #expect(outcome.status == 0, "\(outcome.stderr)")
        }
        let files = filesUnder(a)
        #expect(files == filesUnder(b) && files.contains("README.md"))
        for file in files {
            #expect(try Data(contentsOf: a.appendingPathComponent(file)) == Data(contentsOf: b.appendingPathComponent(file)), "\(file) differs")
        }
        // And the command writes what the golden test compares.
        let expected = reportPackageRoot.appendingPathComponent(ReportGolden.expectedPath)
        #expect(files == filesUnder(expected))
    }

    /// A copy of the golden results folder to break.
    func brokenCopy(_ name: String, _ damage: (URL) throws -> Void) throws -> URL {
        let copy = scratch.appendingPathComponent(name)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: goldenResults), to: copy)
        try damage(copy)
        return copy
    }

    func expectRefused(_ arguments: [String], mentioning fragment: String, out: URL,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcome = try runProcess(thunniniRefExecutable, ["report"] + arguments + ["--out", out.path, "--quiet"])
        #expect(outcome.status != 0, sourceLocation: sourceLocation)
        #expect(outcome.errorLines.count == 1, "stderr: \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.errorLines.first?.contains(fragment) == true, "stderr: \(outcome.stderr)", sourceLocation: sourceLocation)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path)
            .filter { $0.hasPrefix(out.lastPathComponent + ".") }
        #expect(leftovers.isEmpty, "half-written: \(leftovers)", sourceLocation: sourceLocation)
    }

    @Test func refusesAnotherFormatVersion() throws {
        let old = try brokenCopy("old") { try Data("{\"format\": \"thunnini-ref experiment results\", \"version\": 1}".utf8)
            .write(to: $0.appendingPathComponent("format.json")) }
        let out = scratch.appendingPathComponent("out-old")
        try expectRefused([old.path], mentioning: "version 1", out: out)
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let unstamped = try brokenCopy("unstamped") { try FileManager.default.removeItem(at: $0.appendingPathComponent("format.json")) }
        try expectRefused([unstamped.path], mentioning: "format.json", out: out)
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func refusesAFolderWithAMissingFile() throws {
        let broken = try brokenCopy("missing") {
            try FileManager.default.removeItem(at: $0.appendingPathComponent("evaluation/Single Coin/SoftPT.json"))
        }
        let out = scratch.appendingPathComponent("out-missing")
        try expectRefused([broken.path], mentioning: "SoftPT.json", out: out)
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func refusesAnInvalidExperiment() throws {
        var text = try String(contentsOf: reportPackageRoot.appendingPathComponent("Golden/report/tiny.json"), encoding: .utf8)
        text = text.replacingOccurrences(of: "\"learning_rate\": 0.02", with: "\"learning_rate\": 0")
        let file = scratch.appendingPathComponent("invalid.json")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let out = scratch.appendingPathComponent("out-invalid")
        try expectRefused([file.path], mentioning: "learning_rate", out: out)
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// An existing report is refused before anything is computed, and left as it was.
    @Test func refusesAnExistingOutputWithoutOverwrite() throws {
        let out = scratch.appendingPathComponent("existing")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: out.appendingPathComponent("notes.txt"))
        let experiment = reportPackageRoot.appendingPathComponent("Golden/report/tiny.json").path
        let start = Date()
        try expectRefused([experiment], mentioning: out.path, out: out)
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(filesUnder(out) == ["notes.txt"])
    }

    /// From an experiment file: runs it, keeps its results folder in the
    /// report (which renders again to the same report), and every link resolves.
    @Test func runsAnExperimentFileAndKeepsItsResults() throws {
        let out = scratch.appendingPathComponent("from-experiment")
        let experiment = reportPackageRoot.appendingPathComponent("Golden/report/tiny.json").path
        let outcome = try runProcess(thunniniRefExecutable, ["report", experiment, "--out", out.path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("[report] experiment 1/1"))
        let markdown = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
        for link in localLinks(in: markdown) {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(link).path), "broken link \(link)")
        }
        #expect(markdown.contains("results/e1-tiny/"))
        // The kept results folder is a valid input of its own.
        let again = scratch.appendingPathComponent("rerendered")
        let rerender = try runProcess(thunniniRefExecutable, ["report", out.appendingPathComponent("results/e1-tiny").path, "--out", again.path, "--quiet"])
        #expect(rerender.status == 0, "\(rerender.stderr)")
        let figures = filesUnder(out).filter { $0.hasPrefix("figures/") }
        #expect(figures == filesUnder(again).filter { $0.hasPrefix("figures/") })
        for figure in figures {
            #expect(try Data(contentsOf: out.appendingPathComponent(figure)) == Data(contentsOf: again.appendingPathComponent(figure)), "\(figure)")
        }
    }

    /// `--seed-offset K` moves every seed by K and nothing else. Catches a
    /// seed left out (the findings' robustness check would then share draws).
    @Test func seedOffsetMovesEverySeedAndNothingElse() throws {
        let spec = try DefaultExperiments.load()[1]
        let moved = spec.offsettingSeeds(by: 3)
        #expect(moved.pretraining?.trainingConfig.dataGenSeed == spec.pretraining!.trainingConfig.dataGenSeed + 3)
        #expect(moved.pretraining?.trainingConfig.predictorInitSeed == spec.pretraining!.trainingConfig.predictorInitSeed + 3)
        #expect(zip(moved.tuningConfigs, spec.tuningConfigs).allSatisfy {
            $0.config.dataGenSeed == $1.config.dataGenSeed + 3 && $0.config.prefixInitSeed == $1.config.prefixInitSeed + 3 })
        #expect(moved.hardPrefix?.dataGenSeed == spec.hardPrefix!.dataGenSeed + 3)
        #expect(moved.evalDatagenSeed == spec.evalDatagenSeed + 3)
        #expect(moved.offsettingSeeds(by: -3) == spec)
        // Every number of the JSON that is not a seed is unchanged: the encoded
        // specs differ in exactly the seed count (2 + 2 per tuning config + 2).
        let a = String(decoding: try JSONOutput.encode(spec), as: UTF8.self).split(separator: "\n")
        let b = String(decoding: try JSONOutput.encode(moved), as: UTF8.self).split(separator: "\n")
        #expect(a.count == b.count)
        #expect(zip(a, b).filter { $0 != $1 }.count == 2 + 2 * spec.tuningConfigs.count + 2)
    }

    /// The embedded default experiments load and validate, and are what the
    /// report is about: an LSTM on a single coin and a two-coin mixture (one
    /// pretraining), a Transformer with LoRA weight tuning, an untrained
    /// network with soft prefixes; every one has its tuning target among the
    /// evaluation sources, so every check has a target.
    @Test func embeddedDefaultsLoad() throws {
        let specs = try DefaultExperiments.load()
        #expect(specs.count == 4)
        #expect(specs.map { $0.evalDataConfigs.map(\.name) }.allSatisfy { $0 == ["Single Coin", "Two-Coin Mixture", "Random Coins"] })
        #expect(specs[0].pretraining == specs[1].pretraining, "the same pretrained LSTM in both")
        #expect(specs.allSatisfy { spec in spec.evalDataConfigs.contains { spec.bayesLabel(for: $0) == "TargetBayes" } })
        guard case .transformer(let transformer) = specs[2].torsoConfig else { Issue.record("not a Transformer"); return }
        #expect(transformer.useLoRA && specs[2].tuningConfigs.contains { $0.config.tuningMethod == .loraFinetune })
        #expect(specs[3].pretraining == nil && specs[3].tuningConfigs.contains { $0.config.tuningMethod == .prefixSoft })
    }
}
