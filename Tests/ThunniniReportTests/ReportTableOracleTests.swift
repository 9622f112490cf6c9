import Foundation
import Testing
import Thunnini
@testable import ThunniniReport

/// The report's regret tables recomputed from the results folder's stored
/// instant regret curves (read as plain JSON): running sums, numpy's linear
/// quantiles at each mark, printed to three decimals.
@Suite struct ReportTableOracleTests {
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        let h = Double(sorted.count - 1) * q
        let low = Int(h)
        return low + 1 < sorted.count ? sorted[low] + (h - Double(low)) * (sorted[low + 1] - sorted[low]) : sorted[low]
    }

    /// Numbers of a cell "m [a, b]".
    static func numbers(_ cell: Substring) -> [Double] {
        cell.split(whereSeparator: { " [],".contains($0) }).compactMap { Double($0) }
    }

    /// Every cell of every "Cumulative regret at N_tune, N_train, N_eval"
    /// table is the median [q25, q75] over repetitions of the cumulative
    /// regret after n predictions, n from the column header, within the
    /// half unit of the printed third decimal. Fails for a table that shows
    /// another mark, swaps the quartiles, or reads another method's curves.
    @Test func regretTableCellsAreRecomputedFromTheStoredCurves() throws {
        let scratch = try makeScratchDirectory()
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
                let expected = [Self.quantile(cumulative, 0.5), Self.quantile(cumulative, 0.25), Self.quantile(cumulative, 0.75)]
                let shown = Self.numbers(Substring(cell))
                #expect(shown.count == 3 && zip(shown, expected).allSatisfy { abs($0 - $1) <= 0.0005 + 1e-12 },
                        "\(source) \(method) at n = \(n): \(cell) vs \(expected)")
                checkedCells += 1
            }
        }
        // Three sources x (every method but GroundTruth) x three marks.
        #expect(checkedCells >= 3 * 10 * 3, "\(checkedCells) cells")
    }
}
