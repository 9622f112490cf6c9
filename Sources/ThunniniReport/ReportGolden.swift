import Foundation
import Thunnini

/// The report's golden files: a small fixed results folder
/// (`Golden/report/results`, written once by `thunnini-ref run
/// Golden/report/tiny.json`) and its rendering (`Golden/report/expected`:
/// README.md and figures/*.svg), compared byte for byte. The rendering is
/// regenerated only by `thunnini-ref golden --update`; the results folder is
/// an input and changes only when its format version does (Docs/report.md).
public enum ReportGolden {
    public static let resultsPath = "Golden/report/results"
    public static let expectedPath = "Golden/report/expected"

    /// Every file of the rendering of the fixed results folder under `root`, by relative path.
    public static func render(root: URL) throws -> [String: String] {
        let folder = try ResultsFolder.load(from: root.appendingPathComponent(resultsPath))
        let (markdown, figures) = try Report.render([Report.Chapter(results: folder)])
        var files = ["README.md": markdown]
        for figure in figures { files["figures/\(figure.fileName)"] = figure.svg }
        return files
    }

    /// Differences between the rendering and the expected files (empty: they match).
    public static func compare(root: URL) throws -> [String] {
        let expected = root.appendingPathComponent(expectedPath)
        let files = try render(root: root)
        var problems: [String] = []
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            guard let stored = try? String(contentsOf: expected.appendingPathComponent(path), encoding: .utf8) else {
                problems.append("\(expectedPath)/\(path): missing (run `thunnini-ref golden --update`)")
                continue
            }
            if stored != text {
                let line = zip(stored.split(separator: "\n", omittingEmptySubsequences: false), text.split(separator: "\n", omittingEmptySubsequences: false))
                    .enumerated().first { $0.element.0 != $0.element.1 }.map { $0.offset + 1 }
                problems.append("\(expectedPath)/\(path): differs from the rendering\(line.map { " (first at line \($0))" } ?? " (length)")")
            }
        }
        for path in storedFiles(under: expected) where files[path] == nil {
            problems.append("\(expectedPath)/\(path): no longer rendered")
        }
        return problems
    }

    /// Refuses a root without the fixed results folder, in one line saying
    /// what the root must contain. `golden` calls it before writing or
    /// comparing anything: the golden files alone are not worth writing to a
    /// folder whose report golden cannot be rendered.
    public static func checkRoot(_ root: URL) throws {
        let results = root.appendingPathComponent(resultsPath)
        guard FileManager.default.fileExists(atPath: results.appendingPathComponent("format.json").path) else {
            throw ThunniniError("\(root.path): not a thunnini-ref repository root: golden needs the report's fixed results folder "
                + "\(resultsPath) (the output of `thunnini-ref run Golden/report/tiny.json`) there; give the repository root with --root")
        }
    }

    /// Rewrites the expected files from `files` (by default, the rendering).
    public static func update(root: URL, files: [String: String]? = nil) throws {
        let rendered = try files ?? render(root: root)
        let expected = root.appendingPathComponent(expectedPath)
        try? FileManager.default.removeItem(at: expected)
        for (path, text) in rendered {
            let url = expected.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    static func storedFiles(under directory: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        return enumerator.compactMap { $0 as? String }.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: directory.appendingPathComponent(path).path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }.sorted()
    }
}
