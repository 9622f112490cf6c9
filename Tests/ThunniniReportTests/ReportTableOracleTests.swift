import Foundation
import Testing
import Thunnini
@testable import ThunniniReport

/// The report's regret tables recomputed from the results folder's stored
/// instant regret curves (read as plain JSON): running sums at each mark,
/// their mean over repetitions, printed to three decimals.
@Suite struct ReportTableOracleTests {
    /// Every cell of every "Cumulative regret at N_tune, N_train, N_eval"
    /// table starts with the mean over repetitions (and sequences) of the
    /// cumulative regret after n predictions, n from the column header,
    /// within the half unit of the printed third decimal, followed by "± SE".
    /// Fails for a table that shows another mark, prints the standard error
    /// or a quartile in place of the mean, or reads another method's curves.
    @Test func regretTableCellsAreRecomputedFromTheStoredCurves() throws {        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let folder = scratch.appendingPathComponent("results")
        let spec = try ExperimentSpec.load(from: reportPackageRoot.appendingPathComponent("Golden/report/tiny.json"))
        try ExperimentRunner(spec: spec, reportsProgress: false).run().write(to: folder)
        let (markdown, _) = try Report.render([Report.Chapter(results: try ResultsFolder.load(from: folder))])

        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("### Cumulative regret at") })
        var source: String? = nil
        var marks: [Int] = []
        var checkedCells = 0
        for line in lines[(start + 1)...] {
            if line.hasPrefix("### ") { break }
            if line.hasPrefix("**"), let end = line.dropFirst(2).range(of: "**") {
                source = String(line.dropFirst(2)[..<end.lowerBound])
                continue
            }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard line.hasPrefix("|"), cells.count >= 4, let source else { continue }
            if cells[0] == "method" {
                marks = cells[3...].map { Int($0.split(separator: "=").last!.trimmingCharacters(in: .whitespaces))! }
                continue
            }
            guard !cells[0].hasPrefix("---") else { continue }
            let method = cells[0]
            let summaryURL = folder.appendingPathComponent("evaluation/\(source)/\(method).json")
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: summaryURL)) as! [String: Any]
            let curves = (summary["instant_regret"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
            #expect(Int(cells[2]) == curves.count, "\(source) \(method): repetitions")
            for (cell, n) in zip(cells[3...], marks) {
                let cumulative = curves.map { $0[0..<n].reduce(0, +) }
                let expected = cumulative.reduce(0, +) / Double(cumulative.count)
                let parts = cell.split(separator: " ")
                let shown = parts.first.flatMap { Double($0) }
                #expect(shown.map { abs($0 - expected) <= 0.0005 + 1e-12 } == true && parts.count >= 3 && parts[1] == "±",
                        "\(source) \(method) at n = \(n): \(cell) vs mean \(expected)")
                checkedCells += 1
            }
        }
        // Three sources x (every method but GroundTruth) x three marks.
        #expect(checkedCells >= 3 * 10 * 3, "\(checkedCells) cells")
    }
}
