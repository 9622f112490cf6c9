import Foundation
import Testing
@testable import Thunnini

/// Whether `python3` with numpy can be run here (CI's toolchain image may
/// not have it; the test then shows as skipped, not passed).
let pythonWithNumpy: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import numpy"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

/// The numpy example of Docs/crosscheck.md runs against the shipped test
/// vector and every comparison it prints is `ok`: the documentation of the
/// array layout (BOS, prefix positions, slicing, kernel orientation) is true.
@Suite struct DocsExampleTests {
    @Test(.enabled(if: pythonWithNumpy, "needs python3 with numpy"))
    func numpyForwardPassExampleAgrees() throws {
        let docs = try String(contentsOf: repositoryRoot().appendingPathComponent("Docs/crosscheck.md"), encoding: .utf8)
        let section = try #require(docs.range(of: "### A forward pass in numpy"))
        let start = try #require(docs.range(of: "```python\n", range: section.upperBound..<docs.endIndex))
        let end = try #require(docs.range(of: "\n```", range: start.upperBound..<docs.endIndex))
        let script = try makeTemporaryDirectory().appendingPathComponent("example.py")
        defer { try? FileManager.default.removeItem(at: script.deletingLastPathComponent()) }
        try String(docs[start.upperBound..<end.lowerBound]).write(to: script, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        process.currentDirectoryURL = repositoryRoot()
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        let lines = text.split(separator: "\n")
        #expect(lines.count == 5, "\(text)")
        #expect(lines.allSatisfy { $0.split(separator: " ").dropFirst().first == "ok" }, "\(text)")
    }
}
