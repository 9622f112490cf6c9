import Foundation
import Thunnini

/// `report --compare A B`: two results folders of the same experiment (two
/// runs, two seed sets, or two implementations) side by side.
///
/// Every cell of the report's regret tables (each source, method and mark
/// both folders have) is shown for both with its standard error, their
/// difference, and whether the difference is within sampling error: within
/// `Uncertainty.criticalValue` times sqrt(SE_A^2 + SE_B^2), the two runs'
/// evaluation sequences and tuning runs being independent draws. Then each
/// check's verdict in both. First of all, whether the two folders are
/// byte-identical file by file.
public enum Comparison {
    /// One compared number.
    public struct Row: Equatable, Sendable {
        public var source: String, method: String, mark: String
        public var a: Estimate, b: Estimate
        public var difference: Double { b.mean - a.mean }
        public var combinedSE: Double { (a.standardError * a.standardError + b.standardError * b.standardError).squareRoot() }
        public var identical: Bool { a.mean == b.mean && a.standardError == b.standardError }
        public var withinSamplingError: Bool { abs(difference) <= Uncertainty.criticalValue * combinedSE }
    }

    /// The outcome: rows, the files that differ, and what only one side has.
    public struct Outcome: Sendable {
        public var rows: [Row]
        /// Relative paths present in both folders whose bytes differ.
        public var differingFiles: [String]
        /// Relative paths present in one folder only.
        public var unmatchedFiles: [String]
        /// (source, method, mark) cells present in one folder only.
        public var unmatchedCells: [String]
        public var findings: [(id: String, a: Verdict, b: Verdict)]
        public var byteIdentical: Bool { differingFiles.isEmpty && unmatchedFiles.isEmpty }

        /// One line: identical, or how many numbers differ and how many beyond sampling error.
        public var verdictLine: String {
            if byteIdentical { return "the two results folders are identical (every file byte for byte; \(rows.count) numbers compared)" }
            let differing = rows.filter { !$0.identical }
            let beyond = rows.filter { !$0.withinSamplingError }
            return "\(differing.count) of \(rows.count) numbers differ; \(beyond.count) beyond sampling error "
                + "(|B - A| > \(SVGNumber.format(Uncertainty.criticalValue, digits: 1)) x sqrt(SE_A^2 + SE_B^2)); "
                + "\(differingFiles.count) files differ, \(unmatchedFiles.count) in one folder only"
        }
    }

    public static func compare(_ a: ResultsFolder, _ b: ResultsFolder) -> Outcome {
        var rows: [Row] = [], unmatched: [String] = []
        for source in a.spec.evalDataConfigs.map(\.name) {
            for summary in a.summaries where summary.source == source && summary.method != Baseline.groundTruth.rawValue {
                for mark in summary.cumulativeRegretAtMarks {
                    let cell = "\(source) / \(summary.method) / \(mark.label)"
                    guard let sa = SequenceSamples.read(a, source: source, method: summary.method, mark: mark.label) else { continue }
                    guard let sb = SequenceSamples.read(b, source: source, method: summary.method, mark: mark.label) else {
                        unmatched.append(cell + " (only in A)")
                        continue
                    }
                    rows.append(Row(source: source, method: summary.method, mark: mark.label,
                                    a: Uncertainty.estimate(sa), b: Uncertainty.estimate(sb)))
                }
            }
        }
        for summary in b.summaries where summary.method != Baseline.groundTruth.rawValue {
            for mark in summary.cumulativeRegretAtMarks
            where SequenceSamples.read(a, source: summary.source, method: summary.method, mark: mark.label) == nil {
                unmatched.append("\(summary.source) / \(summary.method) / \(mark.label) (only in B)")
            }
        }
        let fa = Findings.check(a), fb = Findings.check(b)
        let findings = fa.compactMap { f -> (id: String, a: Verdict, b: Verdict)? in
            guard let g = fb.first(where: { $0.id == f.id }) else { return nil }
            return (f.id, f.verdict, g.verdict)
        }
        let (differing, onlyOne) = compareFiles(a.url, b.url)
        return Outcome(rows: rows, differingFiles: differing, unmatchedFiles: onlyOne, unmatchedCells: unmatched, findings: findings)
    }

    /// Files whose bytes differ, and files in one folder only (relative paths, sorted).
    static func compareFiles(_ a: URL, _ b: URL) -> (differing: [String], unmatched: [String]) {
        func files(_ root: URL) -> Set<String> {
            guard let e = FileManager.default.enumerator(atPath: root.path) else { return [] }
            return Set(e.compactMap { $0 as? String }.filter { path in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDirectory) && !isDirectory.boolValue
            })
        }
        let (ia, ib) = (files(a), files(b))
        let differing = ia.intersection(ib).filter { path in
            (try? Data(contentsOf: a.appendingPathComponent(path))) != (try? Data(contentsOf: b.appendingPathComponent(path)))
        }
        return (differing.sorted(), ia.symmetricDifference(ib).sorted())
    }

    /// The comparison as markdown.
    public static func markdown(_ outcome: Outcome, a: ResultsFolder, b: ResultsFolder, labels: (String, String)) -> String {
        func f(_ x: Double) -> String { NiceTicks.label(x, decimals: 3) }
        func esc(_ s: String) -> String { Report.escapeMarkdown(s) }
        var md = ["# thunnini-ref comparison", "",
                  "A: \(esc(labels.0)) (\(esc(a.spec.name)))  ", "B: \(esc(labels.1)) (\(esc(b.spec.name)))", "",
                  "**Verdict: \(esc(outcome.verdictLine)).**", "",
                  "Each number is the mean cumulative regret (nats) over repetitions and evaluation sequences ± its standard error "
                  + "(over the sequences, with the spread over repetitions; Docs/report.md, \"Uncertainty\"). "
                  + "Within sampling error: |B - A| <= \(SVGNumber.format(Uncertainty.criticalValue, digits: 1)) x sqrt(SE_A^2 + SE_B^2).", ""]
        if a.spec != b.spec { md += ["The two experiment files differ (config.json); the numbers are compared by source, method and mark.", ""] }
        md += ["| source | method | mark | A | B | B - A | within sampling error |", "|---|---|---|---:|---:|---:|---|"]
        for r in outcome.rows {
            let within = r.identical ? "identical" : r.withinSamplingError ? "yes" : "**no**"
            md.append("| \(esc(r.source)) | \(esc(r.method)) | \(r.mark) | \(f(r.a.mean)) ± \(f(r.a.standardError)) | "
                      + "\(f(r.b.mean)) ± \(f(r.b.standardError)) | \(f(r.difference)) | \(within) |")
        }
        md.append("")
        if !outcome.findings.isEmpty {
            md += ["## Checks of the paper's claims", "", "| # | A | B |", "|---|---|---|"]
            md += outcome.findings.map { "| \(esc($0.id)) | \($0.a.rawValue) | \($0.b.rawValue)\($0.a == $0.b ? "" : " (differs)") |" }
            md.append("")
        }
        if !outcome.unmatchedCells.isEmpty { md += ["Numbers in one folder only: " + esc(outcome.unmatchedCells.joined(separator: "; ")), ""] }
        if !outcome.differingFiles.isEmpty {
            md += ["Files that differ: " + esc(outcome.differingFiles.prefix(30).joined(separator: ", "))
                   + (outcome.differingFiles.count > 30 ? " and \(outcome.differingFiles.count - 30) more" : ""), ""]
        }
        if !outcome.unmatchedFiles.isEmpty {
            md += ["Files in one folder only: " + esc(outcome.unmatchedFiles.prefix(30).joined(separator: ", "))
                   + (outcome.unmatchedFiles.count > 30 ? " and \(outcome.unmatchedFiles.count - 30) more" : ""), ""]
        }
        return md.joined(separator: "\n") + "\n"
    }
}
