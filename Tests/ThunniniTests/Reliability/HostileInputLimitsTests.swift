import Foundation
import Testing
import ZIPFoundation
@testable import Thunnini

/// Hostile inputs at the limits of the machine and of the file formats:
/// bytes that are not UTF-8, a process rlimit below the physical memory, a
/// memory message that must blame the key that makes the estimate large, a
/// decompression bomb whose header promises what the configuration does not
/// expect, and `golden` on a folder that is not a repository root. Each ends
/// in one `error:` line, exit status 1 and nothing written.
extension HostileInputTests {
    // MARK: - 7. Text that is not UTF-8

    /// JSONDecoder accepts some such bytes (the data config below trains and
    /// writes its output: the wrong behaviour is exit 0) and refuses others
    /// as "not valid JSON" without saying where; both must name the byte.
    @Test func jsonStringsWithBytesThatAreNotUTF8AreRefused() throws {
        try writeBasics()
        // An experiment whose notes hold a lone 0xFF byte (line 1 of a one-line file).
        let name = try smokeSpec { $0["notes"] = "notes-MARK" }
        var data = try Data(contentsOf: scratch.appendingPathComponent(name))
        let mark = data.range(of: Data("MARK".utf8))!
        data.replaceSubrange(mark, with: [0x61, 0xFF, 0x62, 0x63])
        try data.write(to: scratch.appendingPathComponent(name))
        expectRefusal(try run(["run", name, "--out", "out"]),
                      "\(path(name)): not UTF-8 text (an invalid byte sequence at byte \(mark.lowerBound + 1), line 1); JSON files must be UTF-8")
        // A truncated two-byte sequence in a data config's string value, on its second line.
        var config = Data("{\"generator_type\": \"Categorical\",\n \"batch_size\": 4, \"sequence_length\": 5, \"vocab_size\": 2, \"biases\": [0.2, 0.8], \"x\": \"".utf8)
        let offset = config.count
        config += Data([0xC3, 0x22, 0x7D])  // 0xC3 starts a two-byte sequence; '"' cannot continue it
        try config.write(to: scratch.appendingPathComponent("latin.json"))
        expectRefusal(try run(["train"] + model + ["--data-config", "latin.json", "--training-config", "tr.json", "--out", "out"]),
                      "latin.json: not UTF-8 text (an invalid byte sequence at byte \(offset), line 2); JSON files must be UTF-8")
        // The check itself: a valid multi-byte text passes, the offset counts bytes.
        #expect(StrictJSON.firstInvalidUTF8(in: Data("{\"name\": \"Thunnini 🐟\"}".utf8)) == nil)
        #expect(StrictJSON.firstInvalidUTF8(in: Data([0x7B, 0x0A, 0xE2, 0x82])) == "byte 2, line 2")
    }

    // MARK: - 8. Process limits (ulimit)

    /// Runs the executable under `ulimit LIMIT` (`-v KB`, `-d KB`) in a shell.
    func runLimited(_ limit: String, _ arguments: [String]) throws -> Outcome {
        let quoted = ([CLITests.executable.path] + arguments).map { "'\($0.replacingOccurrences(of: "'", with: "'\\''"))'" }
        return try run(["-c", "ulimit \(limit) && exec \(quoted.joined(separator: " "))"], executable: URL(fileURLWithPath: "/bin/sh"))
    }

    /// A vocabulary of 100000 tokens: about 1 GB estimated for one training
    /// step, which the physical memory's budget allows. Under a 300 MiB
    /// address-space or data limit the wrong behaviour is an abort in malloc
    /// ("failed to allocate", signal 6, no error line); the budget must come
    /// from what the limit leaves.
    @Test(arguments: [("-v", "ulimit -v"), ("-d", "ulimit -d")])
    func theBudgetHonoursTheProcessLimits(flag: String, name: String) throws {
        try writeBasics()
        let v = 100_000
        try file("wide-p.json", #"{"token_dimensionality": \#(v), "embedding_dimensionality": 4}"#)
        let biases = [String](repeating: "0.00001", count: v).joined(separator: ",")
        try file("wide-d.json", #"{"generator_type": "Categorical", "batch_size": 8, "sequence_length": 10, "vocab_size": \#(v), "biases": [\#(biases)]}"#)
        let wide = ["train", "--predictor-config", "wide-p.json", "--torso-config", "t.json", "--data-config", "wide-d.json",
                    "--training-config", "tr.json", "--out", "out"]
        let refused = try runLimited("\(flag) 307200", wide)
        #expect(refused.reason == .exit && refused.status == 1, "\(refused.stderr)")
        #expect(refused.errorLines.count == 1, "\(refused.stderr)")
        let line = refused.errorLines.first ?? ""
        let expected = #/error: wide-d\.json: needs about 958\.3 MB of memory, above the budget of (\d+\.\d) MB \(80% of what (ulimit -[vd]) leaves\); the largest part is the training batch \(wide-d\.json: batch_size 8 x sequence_length 10 x vocab_size 100000; embedding_dimensionality 4, hidden_sizes \[3\]\), dominated by token_dimensionality 100000 \(927\.8 MB\); reduce it or raise --max-memory/#
        let match = try #require(line.wholeMatch(of: expected), "\(line)")
        #expect(String(match.output.2) == name)
        // 80% of 300 MiB less what the process had mapped when it checked.
        #expect((Double(match.output.1) ?? 0) < 240 && (Double(match.output.1) ?? 0) > 20)
        expectNothingWritten("out")
        // Under the same limit a run that fits goes through.
        let small = try runLimited("\(flag) 307200", ["train"] + model + ["--data-config", "d.json", "--training-config", "tr.json", "--out", "small"])
        #expect(small.reason == .exit && small.status == 0, "\(small.stderr)")
        // Without a limit the same estimate fits the physical memory's budget (this machine has more than 1.2 GB).
        #expect(MemoryBudget.limit.bytes > 1_200_000_000)
    }

    /// /proc/self/status separates key and value with a tab and pads with
    /// spaces; a parser that split on one of them only, or read the wrong
    /// key, would leave the limit's use at 0 or at another line's value.
    @Test func theMappedMemoryIsReadFromProcStatus() {
        let status = "Name:\tthunnini-ref\nVmPeak:\t  999999 kB\nVmSize:\t    3896 kB\nVmData:\t     428 kB\n"
        #expect(MemoryBudget.statusBytes(status, "VmSize") == 3896 * 1024)
        #expect(MemoryBudget.statusBytes(status, "VmData") == 428 * 1024)
        #expect(MemoryBudget.statusBytes("", "VmSize") == 0)
        #expect(MemoryBudget.eightyPercent(of: 1 << 30) == 858_993_459)
    }

    // MARK: - 9. The memory message blames the key that makes it large

    /// The wrong behaviour: "the largest part is the training batch (d.json:
    /// batch_size 4 x sequence_length 5 x vocab_size 2; ...)" and nothing
    /// about the key that is 10^9.
    @Test func theMemoryMessageNamesTheDominantKey() throws {
        try writeBasics()
        try file("tp.json", #"{"token_dimensionality": 2, "embedding_dimensionality": 4}"#)
        try file("wide-t.json", #"{"torso_type": "Transformer", "is_trainable": true, "hidden_sizes": [4], "num_attention_heads": 2, "widening_factor": 1000000000}"#)
        expectRefusal(try run(["train", "--predictor-config", "tp.json", "--torso-config", "wide-t.json", "--data-config", "d.json",
                               "--training-config", "tr.json", "--out", "out", "--max-memory", "8G"]),
                      "d.json: needs about 4.1 TB of memory, above the budget of 8.0 GB; the largest part is the training batch (d.json: batch_size 4 x sequence_length 5 x vocab_size 2; embedding_dimensionality 4, hidden_sizes [4]), dominated by hidden_sizes[0] 4 x widening_factor 1000000000 (2.8 TB); reduce it or raise --max-memory")
        let parameters = try trainedParameters()
        expectRefusal(try run(["tune"] + model + ["--parameters", parameters, "--data-config", "d.json", "--tuning-config",
                                                  try tuningConfig("long-prefix.json", method: "prefix_real", extra: #", "prefix_length": 1000000000, "prefix_init_method": "one_hot""#),
                                                  "--out", "out", "--max-memory", "8G"]),
                      "d.json: needs about 2.6 TB of memory, above the budget of 8.0 GB; the largest part is the training batch (d.json: batch_size 4 x sequence_length 5 x vocab_size 2; embedding_dimensionality 4, hidden_sizes [3]), dominated by long-prefix.json: prefix_length 1000000000 (2.6 TB); reduce it or raise --max-memory")
    }

    // MARK: - 10. Decompression bombs

    /// An `.npz` with one deflated entry: an `.npy` header declaring `shape`
    /// and `zeros` bytes of data, whose last compressed bytes are damaged. A
    /// reader that inflates the entry before looking at its header reports
    /// the damage ("is corrupt"); one that checks the header first refuses
    /// the shape and never reaches it.
    func bomb(_ file: String, entry: String, shape: [Int], zeros: Int) throws {
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
        var blob = Data(NPY.magic + [1, 0, UInt8(header.utf8.count + 1), 0])
        blob += Data((header + "\n").utf8)
        blob += Data(count: zeros)
        let archive = try Archive(accessMode: .create)
        try archive.addEntry(with: entry + ".npy", type: .file, uncompressedSize: Int64(blob.count), compressionMethod: .deflate) { position, size in
            blob.subdata(in: Int(position)..<min(Int(position) + size, blob.count))
        }
        var zip = archive.data!
        func u32(_ at: Int) -> Int { Int(zip[at]) | Int(zip[at + 1]) << 8 | Int(zip[at + 2]) << 16 | Int(zip[at + 3]) << 24 }
        let directory = u32(zip.count - 22 + 16)
        let compressed = u32(directory + 20), local = u32(directory + 42)
        let dataStart = local + 30 + (Int(zip[local + 26]) | Int(zip[local + 27]) << 8) + (Int(zip[local + 28]) | Int(zip[local + 29]) << 8)
        zip[dataStart + compressed - 6] ^= 0xFF
        try zip.write(to: scratch.appendingPathComponent(file))
    }

    @Test func aBombIsRefusedByItsHeaderBeforeItIsInflated() throws {
        let parameters = try trainedParameters()
        var sequences = Tensor(shape: [1, 2, 2]); sequences.storage = [1, 0, 0, 1]
        try NPZ.write(["sequences": sequences], to: scratch.appendingPathComponent("seq.npz"))
        // Parameters: the shape the predictor expects is known, [2, 4] for the embedding.
        let trained = try NPZ.read(scratch.appendingPathComponent(parameters))
        let name = trained.keys.sorted()[0]
        let expectedShape = trained[name]!.shape
        try bomb("params-bomb.npz", entry: name, shape: [4000, 1000], zeros: 32_000_000)
        expectRefusal(try run(["evaluate"] + model + ["--parameters", "params-bomb.npz", "--sequences", "seq.npz", "--out", "out", "--max-memory", "100G"]),
                      "\(path("params-bomb.npz")): parameter '\(name)' has shape [4000, 1000], expected \(expectedShape)")
        // An array that is not a parameter of this predictor.
        try bomb("stray-bomb.npz", entry: "params/nothing/kernel", shape: [4000, 1000], zeros: 32_000_000)
        expectRefusal(try run(["evaluate"] + model + ["--parameters", "stray-bomb.npz", "--sequences", "seq.npz", "--out", "out"]),
                      "\(path("stray-bomb.npz")): unexpected parameter 'params/nothing/kernel'")
        // Sequences: the shape is free, but the memory estimate is made from the header.
        try bomb("seq-bomb.npz", entry: "sequences", shape: [2_000_000, 1000, 2], zeros: 32_000_000)
        expectRefusal(try run(["evaluate"] + model + ["--parameters", parameters, "--sequences", "seq-bomb.npz", "--out", "out", "--max-memory", "1G"]),
                      "seq-bomb.npz: needs about 89.5 GB of memory, above the budget of 1.0 GB; the largest part is the sequences of seq-bomb.npz: sequences of shape [2000000, 1000, 2] (89.4 GB); reduce it or raise --max-memory")
        // A header that never ends is not inflated past 1 MB.
        #expect(NPZ.maximumHeaderBytes == 1 << 20)
    }

    // MARK: - 11. golden on a folder that is not the repository

    /// The wrong behaviour: golden files written into the folder, then a
    /// failure on the missing report results (a half-updated root).
    @Test func goldenUpdateOnAFolderWithoutTheReportResultsWritesNothing() throws {
        let empty = scratch.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        let message = "\(empty.path): not a thunnini-ref repository root: golden needs the report's fixed results folder Golden/report/results (the output of `thunnini-ref run Golden/report/tiny.json`) there; give the repository root with --root"
        expectRefusal(try run(["golden", "--update", "--root", "empty"]), message, out: nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)
        expectRefusal(try run(["golden", "--root", "empty"]), message, out: nil)
    }
}
