import Foundation
import Testing
@testable import Thunnini

/// A fresh scratch directory, removed by `cleanUp()`.
struct Scratch {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) }
    func cleanUp() { try? FileManager.default.removeItem(at: root) }
    var entries: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted() }
    func read(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: root.appendingPathComponent(path)), as: UTF8.self)
    }
}

@Suite struct AtomicOutputTests {
    struct Curve: Codable { var loss: [Double] }

    @Test func commitMovesEverythingIntoPlace() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let destination = scratch.root.appendingPathComponent("results")
        let output = try AtomicOutputDirectory(destination: destination)
        #expect(output.staging.lastPathComponent == "results.partial-\(getpid())")
        try output.write(json: Curve(loss: [1.5, 0.25]), to: "pretraining/loss.json")
        try output.write(text: "# Summary\n", to: "summary.md")
        try output.write(data: Data([1, 2, 3]), to: "tuning/SoftPT/rep1/raw.bin")
        try output.write(npz: ["prefix": Tensor(shape: [2, 2], storage: [1, 0, 0, 1])], to: "tuning/SoftPT/rep1/prefix.npz")
        #expect(scratch.entries == ["results.partial-\(getpid())"])
        try output.commit()
        #expect(scratch.entries == ["results"])
        #expect(try scratch.read("results/summary.md") == "# Summary\n")
        #expect(try scratch.read("results/pretraining/loss.json") == "{\n  \"loss\" : [\n    1.5,\n    0.25\n  ]\n}\n")
        let prefix = try NPZ.read(destination.appendingPathComponent("tuning/SoftPT/rep1/prefix.npz"))
        #expect(prefix["prefix"]?.storage == [1, 0, 0, 1])
        expectThunniniError(["already committed"]) { try output.write(text: "late", to: "late.txt") }
        expectThunniniError(["already committed"]) { try output.commit() }
    }

    @Test func interruptedRunLeavesNoDestination() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let destination = scratch.root.appendingPathComponent("results")
        struct Interrupted: Error {}
        func run() throws {
            let output = try AtomicOutputDirectory(destination: destination)
            try output.write(text: "half", to: "pretraining/loss.json")
            throw Interrupted()  // e.g. a tuning step failed; commit() is never reached
        }
        #expect(throws: Interrupted.self) { try run() }
        #expect(scratch.entries.isEmpty)
    }

    @Test func abandonRemovesTheStagingDirectory() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let output = try AtomicOutputDirectory(destination: scratch.root.appendingPathComponent("results"))
        try output.write(text: "x", to: "a.txt")
        output.abandon()
        #expect(scratch.entries.isEmpty)
        expectThunniniError(["abandoned"]) { try output.commit() }
    }

    @Test func existingNonEmptyDestinationIsRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let destination = scratch.root.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: false)
        try Data("old".utf8).write(to: destination.appendingPathComponent("old.txt"))
        expectThunniniError([destination.path, "already exists and is not empty"]) {
            _ = try AtomicOutputDirectory(destination: destination)
        }
        #expect(scratch.entries == ["results"])
        #expect(try scratch.read("results/old.txt") == "old")

        // A regular file is never replaced, even with overwrite.
        let file = scratch.root.appendingPathComponent("file")
        try Data().write(to: file)
        expectThunniniError(["not a directory"]) { _ = try AtomicOutputDirectory(destination: file, overwrite: true) }
    }

    @Test func destinationFilledDuringTheRunIsRefusedAtCommit() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let destination = scratch.root.appendingPathComponent("results")
        let output = try AtomicOutputDirectory(destination: destination)
        try output.write(text: "new", to: "new.txt")
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: false)
        try Data("other".utf8).write(to: destination.appendingPathComponent("other.txt"))
        expectThunniniError(["already exists and is not empty"]) { try output.commit() }
        #expect(try scratch.read("results/other.txt") == "other")
    }

    @Test func emptyDestinationIsReplaced() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let destination = scratch.root.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: false)
        let output = try AtomicOutputDirectory(destination: destination)
        try output.write(text: "new", to: "new.txt")
        try output.commit()
        #expect(scratch.entries == ["results"])
        #expect(try scratch.read("results/new.txt") == "new")
    }

    @Test func overwriteReplacesTheWholeDirectory() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let destination = scratch.root.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: false)
        try Data("old".utf8).write(to: destination.appendingPathComponent("old.txt"))
        let output = try AtomicOutputDirectory(destination: destination, overwrite: true)
        try output.write(text: "new", to: "new.txt")
        #expect(try scratch.read("results/old.txt") == "old")  // untouched until commit
        try output.commit()
        #expect(scratch.entries == ["results"])  // no .old or .partial left
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination.path) == ["new.txt"])
    }

    @Test func outputPathsMustStayInside() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let output = try AtomicOutputDirectory(destination: scratch.root.appendingPathComponent("results"))
        for bad in ["/etc/x", "../x", "a/../../x", "a//b", "", "./a"] {
            expectThunniniError(["output paths must be relative"]) { try output.write(text: "x", to: bad) }
        }
    }

    @Test func missingParentIsRefused() {
        let destination = FileManager.default.temporaryDirectory
            .appendingPathComponent("no-such-\(UUID().uuidString)/results")
        expectThunniniError(["parent directory", "does not exist"]) { _ = try AtomicOutputDirectory(destination: destination) }
    }

    @Test func staleStagingOfADeadProcessIsRemoved() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        // A process that has exited: its pid names a staging directory nobody owns.
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let stale = scratch.root.appendingPathComponent("results.partial-\(finished.processIdentifier)")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: false)
        // A live process (this one's parent) keeps its staging directory.
        let live = scratch.root.appendingPathComponent("results.partial-\(getppid())")
        try FileManager.default.createDirectory(at: live, withIntermediateDirectories: false)
        let output = try AtomicOutputDirectory(destination: scratch.root.appendingPathComponent("results"))
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: live.path))
        output.abandon()
    }

    @Test func sameResultsGiveIdenticalFiles() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        var bytes: [Data] = []
        for name in ["a", "b"] {
            let output = try AtomicOutputDirectory(destination: scratch.root.appendingPathComponent(name))
            try output.write(json: ["SoftPT": [0.1 + 0.2, 1e-300], "RealPT": [1.0 / 3.0]], to: "summary.json")
            try output.commit()
            bytes.append(try Data(contentsOf: scratch.root.appendingPathComponent("\(name)/summary.json")))
        }
        #expect(bytes[0] == bytes[1])
    }
}
