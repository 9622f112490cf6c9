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
