import Foundation
import Testing
@testable import Thunnini

/// A fresh empty directory under the system temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("thunnini-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The repository root, found from this file's location.
func repositoryRoot(_ filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath)  // Tests/ThunniniTests/IO/NPZTests.swift
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
}

@Suite struct NPZTests {
    let arrays: [String: Tensor] = [
        "params/embedding/kernel": Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6.5]),
        "loss": Tensor(scalar: -0.25),
        "a": Tensor(shape: [0], storage: []),
    ]

    @Test func roundTripsNamesWithSlashes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("arrays.npz")
        try NPZ.write(arrays, to: url)
        #expect(try NPZ.read(url) == arrays)
        // Only the archive is left behind: the temporary file was renamed.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["arrays.npz"])
    }

    @Test func writingIsDeterministic() throws {
        let first = try NPZ.encode(arrays)
        var reordered: [String: Tensor] = [:]
        for key in arrays.keys.sorted().reversed() { reordered[key] = arrays[key] }
        let second = try NPZ.encode(reordered)
        #expect(first == second)
    }

    @Test func overwritesAnExistingFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("a.npz")
        try NPZ.write(arrays, to: url)
        let smaller = ["x": Tensor(scalar: 1)]
        try NPZ.write(smaller, to: url)
        #expect(try NPZ.read(url) == smaller)
    }

    @Test func entriesAreOrderedAndNamedAsNumpyExpects() throws {
        let data = try NPZ.encode(arrays)
        // Local file headers carry the entry names; they appear in sorted order.
        let text = String(decoding: data, as: UTF8.self)
        let positions = ["a.npy", "loss.npy", "params/embedding/kernel.npy"].map { text.range(of: $0)!.lowerBound }
        #expect(positions == positions.sorted())
    }

    @Test func readsNumpySavezCompressed() throws {
        let read = try NPZ.read(NumpyFixtures.compressedNPZ, source: "fixture.npz")
        #expect(read == ["a/b": Tensor(shape: [2], storage: [1, 2]), "c": Tensor(shape: [2, 2], storage: [1, 2, 3, 4])])
    }

    @Test func readsTheOriginalsSavezOutput() throws {
        let url = repositoryRoot().appendingPathComponent("Golden/crosscheck/thunnini-jax/linear/arrays.npz")
        let read = try NPZ.read(url)
        #expect(read.count == 165)
        #expect(read["sequences"]?.rank == 3)
    }

    @Test func truncatedArchiveIsAClearError() throws {
        let data = try NPZ.encode(arrays)
        expectThunniniError(["cut.npz", "truncated"]) { _ = try NPZ.read(data.prefix(data.count - 10), source: "cut.npz") }
        expectThunniniError(["cut.npz"]) { _ = try NPZ.read(data.prefix(100), source: "cut.npz") }
        expectThunniniError(["empty.npz"]) { _ = try NPZ.read(Data(), source: "empty.npz") }
    }

    @Test func corruptEntryIsAClearError() throws {
        var bytes = [UInt8](try NPZ.encode(["x": Tensor(shape: [4], storage: [1, 2, 3, 4])]))
        // Flip a byte inside the stored array data (past the local header and the npy header).
        bytes[30 + 5 + 128 + 3] ^= 0xFF
        expectThunniniError(["bad.npz", "'x.npy'", "corrupt"]) { _ = try NPZ.read(Data(bytes), source: "bad.npz") }
    }

    @Test func missingFileIsAClearError() {
        expectThunniniError(["nowhere.npz", "cannot read"]) {
            _ = try NPZ.read(URL(fileURLWithPath: "/nonexistent/nowhere.npz"))
        }
    }
}
