import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The package root (this file is Tests/ThunniniReportTests/...).
let reportPackageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Whether `text` parses as XML.
func isWellFormedXML(_ text: String) -> Bool {
    XMLParser(data: Data(text.utf8)).parse()
}

func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("report-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The built `thunnini-ref`, next to the test binary.
let thunniniRefExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    .deletingLastPathComponent().appendingPathComponent("thunnini-ref")

struct ProcessOutcome {
    var status: Int32
    var stdout: String
    var stderr: String
    var errorLines: [Substring] { stderr.split(separator: "\n").filter { $0.hasPrefix("error:") } }
}

func runProcess(_ executable: URL, _ arguments: [String]) throws -> ProcessOutcome {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessOutcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                          stderr: String(decoding: stderr, as: UTF8.self))
}

/// Every file under `directory`, relative paths, sorted.
func filesUnder(_ directory: URL) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else { return [] }
    return enumerator.compactMap { $0 as? String }.filter { path in
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory.appendingPathComponent(path).path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }.sorted()
}

/// Targets of markdown links and images (`](target)`) that are not web addresses or anchors.
func localLinks(in markdown: String) -> [String] {
    var links: [String] = []
    var rest = Substring(markdown)
    while let open = rest.range(of: "](") {
        let after = rest[open.upperBound...]
        guard let close = after.firstIndex(of: ")") else { break }
        let target = String(after[..<close])
        if !target.hasPrefix("http") && !target.hasPrefix("#") { links.append(target) }
        rest = after[close...]
    }
    return links
}

/// Texts of an SVG that would reach outside its width, judged by the report's
/// own generous width estimate (`Figure.estimatedTextWidth`): one line each.
/// Rotated texts (axis labels) are skipped.
func textsOutside(svg: String, estimate: (String, Double, Bool) -> Double) -> [String] {
    func attribute(_ name: String, in tag: Substring) -> String? {
        guard let r = tag.range(of: " \(name)=\"") else { return nil }
        let rest = tag[r.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
    guard let svgTag = svg.range(of: "<svg ").map({ svg[$0.lowerBound...] }),
          let width = attribute("width", in: svgTag.prefix(300)).flatMap(Double.init) else { return ["no width"] }
    var problems: [String] = []
    var rest = Substring(svg)
    while let open = rest.range(of: "<text ") {
        guard let close = rest[open.upperBound...].range(of: ">"), let end = rest[close.upperBound...].range(of: "</text>") else { break }
        let tag = rest[open.lowerBound..<close.upperBound]
        let content = String(rest[close.upperBound..<end.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
        rest = rest[end.upperBound...]
        if tag.contains("transform=") { continue }
        guard let x = attribute("x", in: tag).flatMap(Double.init), let size = attribute("font-size", in: tag).flatMap(Double.init) else { continue }
        let w = estimate(content, size, tag.contains("font-weight=\"bold\""))
        let anchor = attribute("text-anchor", in: tag) ?? "start"
        let (left, right) = anchor == "middle" ? (x - w / 2, x + w / 2) : anchor == "end" ? (x - w, x) : (x, x + w)
        if left < -1 || right > width + 1 { problems.append("'\(content)' spans \(Int(left))...\(Int(right)) of 0...\(Int(width))") }
    }
    return problems
}
