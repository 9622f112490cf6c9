import Foundation
import Testing
@testable import Thunnini

/// Determinism across processes: the built executable, run as separate
/// processes (each with its own hash seed, heap layout and thread pool),
/// writes byte-identical outputs for the same inputs, and the thread count
/// does not change a byte. In-process determinism tests cannot catch
/// iteration over a `Dictionary`/`Set` (whose order changes with the
/// per-process hash seed) leaking into results or file layout, nor a
/// thread-count dependent reduction.
@Suite final class DeterminismCLITests {
    let scratch: URL

    init() throws { scratch = try makeTemporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        let result = try CLITests.runExecutable(arguments)
        return (result.status, result.stdout, String(decoding: result.stderr, as: UTF8.self))
    }

    /// Every regular file under `directory`, by relative path, with its bytes.
    func contents(of directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let base = directory.resolvingSymlinksInPath().path
        let enumerator = try #require(FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]))
        for case let url as URL in enumerator where try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true {
            files[String(url.resolvingSymlinksInPath().path.dropFirst(base.count))] = try Data(contentsOf: url)
        }
        return files
    }

    func example(_ name: String) -> String { repositoryRoot().appendingPathComponent("Docs/examples/\(name)").path }

    @Test func runIsByteIdenticalAcrossProcessesAndThreadCounts() throws {
        var outputs: [[String: Data]] = []
        for (index, threads) in ["1", "1", "2"].enumerated() {
            let out = scratch.appendingPathComponent("smoke-\(index)")
            let result = try run(["run", example("smoke.json"), "--out", out.path, "--threads", threads])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            // Every phase reports on stderr, the evaluations included (one
            // step per evaluation source: smoke.json has two).
            for phase in ["pretrain", "tune RealPT rep 2/2", "hard prefix search", "evaluate SoftPT", "evaluate HardPT"] {
                #expect(result.stderr.contains("[\(phase)] done"), "no summary line for \(phase) in: \(result.stderr)")
            }
            #expect(result.stderr.contains("[evaluate NoTuning] done 2 steps"), "stderr: \(result.stderr)")
            outputs.append(try contents(of: out))
        }
        #expect(outputs[0].count >= 10, "files: \(outputs[0].keys.sorted())")
        #expect(outputs[0].keys.contains("/parameters.npz"))
        for (index, other) in outputs.enumerated().dropFirst() {
            #expect(other.keys.sorted() == outputs[0].keys.sorted())
            for (path, bytes) in outputs[0] {
                #expect(other[path] == bytes, "run \(index) (threads \(index == 2 ? 2 : 1)): \(path) differs")
            }
        }
    }

    @Test func exactIsByteIdenticalAcrossProcessesAndThreadCounts() throws {
        let arguments = ["exact", "--source", example("two-coins.json"), "--predictor", example("laplace.json"), "--length", "60"]
        let first = try run(arguments + ["--threads", "1"])
        let second = try run(arguments + ["--threads", "1"])
        let twoThreads = try run(arguments + ["--threads", "2"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.count > 100)
        #expect(second.stdout == first.stdout)
        #expect(twoThreads.stdout == first.stdout)
    }
}
