import Foundation

/// The parts of an experiment directory: `DIR/parts/unit-NNNN/`, one per
/// finished unit (Docs/cluster.md, "Parts").
///
/// A part is a directory of three files: `data.json` (what the unit
/// produced besides arrays), `arrays.npz` (every number, float64) and
/// `part.json` (the experiment's fingerprint, the unit, and the size and
/// SHA-256 of the other two). It is written into `parts/.staging-unit-NNNN-PID`
/// and renamed into place in one `rename(2)`, so it exists complete or not
/// at all; a process killed while writing leaves only its staging directory,
/// which the next writer of that unit removes. When two processes finish the
/// same unit, the first rename wins and the second discards its copy.
///
/// A unit that fails leaves `parts/unit-NNNN.failed` with its error line, so
/// that processes waiting for it stop waiting; running the unit again
/// removes it.
public struct PartStore {
    /// The experiment directory.
    public let directory: URL
    public let plan: ExperimentPlan

    public init(directory: URL, plan: ExperimentPlan) {
        self.directory = directory
        self.plan = plan
    }

    /// The `format` string of `part.json`.
    public static let formatName = "thunnini-ref experiment part"

    var partsURL: URL { directory.appendingPathComponent("parts") }
    func folderName(_ unit: ExperimentUnit) -> String { String(format: "unit-%04d", unit.index) }
    func partURL(_ unit: ExperimentUnit) -> URL { partsURL.appendingPathComponent(folderName(unit)) }
    func failureURL(_ unit: ExperimentUnit) -> URL { partsURL.appendingPathComponent(folderName(unit) + ".failed") }

    /// What is on disk for a unit.
    public enum Status: Equatable, Sendable {
        case complete
        case missing
        /// Present but unusable: the reason.
        case corrupt(String)
        /// The unit failed: its error line.
        case failed(String)
    }

    /// The unit's status, checking the part's fingerprint and checksums.
    public func status(of unit: ExperimentUnit) -> Status {
        do {
            _ = try verifiedFiles(of: unit)
            return .complete
        } catch PartError.missing {
            if let message = try? String(contentsOf: failureURL(unit), encoding: .utf8) {
                return .failed(message.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return .missing
        } catch PartError.corrupt(let reason) {
            return .corrupt(reason)
        } catch {
            return .corrupt("\(error)")
        }
    }

    enum PartError: Error { case missing, corrupt(String) }

    struct Manifest: Codable {
        var format: String
        var version: Int
        var fingerprint: String
        var unit: Int
        var name: String
        var files: [FileEntry]
        struct FileEntry: Codable, Equatable {
            var name: String
            var bytes: Int
            var sha256: String
        }
    }

    /// The part's files by name (`part.json` and the data files), after
    /// checking the manifest against the plan and the checksums.
    func verifiedFiles(of unit: ExperimentUnit) throws -> [String: Data] {
        let url = partURL(unit)
        guard FileManager.default.fileExists(atPath: url.path) else { throw PartError.missing }
        guard let manifestData = try? Data(contentsOf: url.appendingPathComponent("part.json")),
              let manifest = try? JSONOutput.decode(Manifest.self, from: manifestData, source: "part.json") else {
            throw PartError.corrupt("part.json is missing or unreadable")
        }
        guard manifest.format == Self.formatName, manifest.version == ExperimentPlan.formatVersion else {
            throw PartError.corrupt("part.json is of format '\(manifest.format)' version \(manifest.version)")
        }
        guard manifest.fingerprint == plan.fingerprint else {
            throw PartError.corrupt("written for another experiment (fingerprint \(manifest.fingerprint.prefix(12)), this plan's \(plan.fingerprint.prefix(12)))")
        }
        guard manifest.unit == unit.index, manifest.name == unit.name else {
            throw PartError.corrupt("holds unit \(manifest.unit) '\(manifest.name)'")
        }
        guard manifest.files.map(\.name).sorted() == PartCodec.fileNames.sorted() else {
            throw PartError.corrupt("part.json lists files \(manifest.files.map(\.name))")
        }
        var files = ["part.json": manifestData]
        for entry in manifest.files {
            guard let data = try? Data(contentsOf: url.appendingPathComponent(entry.name)) else {
                throw PartError.corrupt("\(entry.name) is missing")
            }
            guard data.count == entry.bytes else {
                throw PartError.corrupt("\(entry.name) has \(data.count) bytes, part.json says \(entry.bytes) (truncated or changed)")
            }
            guard SHA256.hex(data) == entry.sha256 else { throw PartError.corrupt("\(entry.name) does not match its checksum") }
            files[entry.name] = data
        }
        return files
    }

    /// Every file of a complete part, checked (one error line naming the unit otherwise).
    public func files(of unit: ExperimentUnit) throws -> [String: Data] {
        do {
            return try verifiedFiles(of: unit)
        } catch PartError.missing {
            throw ThunniniError("unit \(unit.index) '\(unit.name)' has no complete part in \(partsURL.path); run it first")
        } catch PartError.corrupt(let reason) {
            throw ThunniniError("unit \(unit.index) '\(unit.name)': its part in \(partsURL.path) is corrupt (\(reason)); run the unit again")
        }
    }

    /// Reads a complete part (one error line naming the unit otherwise).
    public func read(_ unit: ExperimentUnit) throws -> ExperimentUnitOutput {
        try PartCodec.decode(try files(of: unit), unit: unit, spec: plan.spec, source: partURL(unit).path)
    }

    /// The encoded files of `output`, with the manifest: what `write` puts on disk.
    public func encode(_ output: ExperimentUnitOutput, of unit: ExperimentUnit) throws -> [String: Data] {
        var files = try PartCodec.encode(output, source: folderName(unit))
        let entries = PartCodec.fileNames.map { Manifest.FileEntry(name: $0, bytes: files[$0]!.count, sha256: SHA256.hex(files[$0]!)) }
        files["part.json"] = try JSONOutput.encode(Manifest(format: Self.formatName, version: ExperimentPlan.formatVersion,
                                                            fingerprint: plan.fingerprint, unit: unit.index, name: unit.name, files: entries))
        return files
    }

    /// Writes the part of `unit` atomically (see the type's doc) and removes its failure mark.
    public func write(_ output: ExperimentUnitOutput, of unit: ExperimentUnit) throws {
        let files = try encode(output, of: unit)
        removeStaleStaging(of: unit)
        let staging = partsURL.appendingPathComponent(".staging-\(folderName(unit))-\(getpid())")
        try InterruptCleanup.whileWriting {
            try? FileManager.default.removeItem(at: staging)
            InterruptCleanup.track(staging.path, true)
            do {
                try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
                // part.json last: a staging directory with it is complete.
                for name in PartCodec.fileNames + ["part.json"] {
                    try PartFiles.writeDurably(files[name]!, to: staging.appendingPathComponent(name))
                }
            } catch let error as ThunniniError {
                try? FileManager.default.removeItem(at: staging)
                throw error
            } catch {
                try? FileManager.default.removeItem(at: staging)
                throw ThunniniError("\(staging.path): cannot write the part (\(error.localizedDescription))")
            }
        }
        let target = partURL(unit)
        if let pause = UInt32(ProcessInfo.processInfo.environment["THUNNINI_TEST_PAUSE_BEFORE_COMMIT"] ?? ""), pause > 0 {
            // Only for the test that kills a unit between writing its part and renaming it into place.
            sleep(pause)
        }
        try InterruptCleanup.whileWriting {
            defer {
                try? FileManager.default.removeItem(at: staging)
                InterruptCleanup.track(staging.path, false)
            }
            if Foundation.rename(staging.path, target.path) != 0 {
                // Another process finished the unit first: keep its part if it
                // is complete, else replace it with this one.
                if status(of: unit) == .complete { return }
                let aside = partsURL.appendingPathComponent(".corrupt-\(folderName(unit))-\(getpid())")
                _ = Foundation.rename(target.path, aside.path)
                try? FileManager.default.removeItem(at: aside)
                guard Foundation.rename(staging.path, target.path) == 0 else {
                    throw ThunniniError("\(target.path): cannot move the part into place (\(String(cString: strerror(errno))))")
                }
            }
        }
        try? FileManager.default.removeItem(at: failureURL(unit))
    }

    /// Records that `unit` failed with `message` (best effort: the error is what matters).
    public func markFailed(_ unit: ExperimentUnit, message: String) {
        try? PartFiles.writeDurably(Data((message + "\n").utf8), to: failureURL(unit), atomically: true)
    }

    /// Removes the failure mark of `unit` (it is being run again).
    public func clearFailure(_ unit: ExperimentUnit) {
        try? FileManager.default.removeItem(at: failureURL(unit))
    }

    /// Removes staging directories of `unit` left by processes that no longer exist.
    func removeStaleStaging(of unit: ExperimentUnit) {
        let prefix = ".staging-\(folderName(unit))-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: partsURL.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(at: partsURL.appendingPathComponent(name)) }
        }
    }
}

/// Small file operations the plan and the parts share.
enum PartFiles {
    /// Writes `data` to `url` only if no file is there (write to a temporary
    /// name, then `link(2)`, which fails on an existing name). Returns
    /// whether this call created it.
    /// The temporary file goes into `temporaryDirectory` (default: `url`'s),
    /// which must be on the same file system.
    static func createExclusively(_ data: Data, at url: URL, temporaryDirectory: URL? = nil) throws -> Bool {
        if FileManager.default.fileExists(atPath: url.path) { return false }
        let temporary = (temporaryDirectory ?? url.deletingLastPathComponent()).appendingPathComponent(".\(url.lastPathComponent).\(getpid())")
        defer { unlink(temporary.path) }
        try writeDurably(data, to: temporary)
        if link(temporary.path, url.path) == 0 { return true }
        if errno == EEXIST { return false }
        throw ThunniniError("\(url.path): cannot create the file (\(String(cString: strerror(errno))))")
    }

    /// Writes `data` to `url` and flushes it to the disk before returning,
    /// so that a rename that follows never exposes a file whose contents
    /// are not yet stored. With `atomically`, through a temporary file.
    static func writeDurably(_ data: Data, to url: URL, atomically: Bool = false) throws {
        let target = atomically ? url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp") : url
        let fd = open(target.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ThunniniError("\(target.path): cannot write (\(String(cString: strerror(errno))))") }
        var written = 0
        let ok = data.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n <= 0 { return false }
                written += n
            }
            return fsync(fd) == 0
        }
        let reason = String(cString: strerror(errno))
        close(fd)
        guard ok else {
            unlink(target.path)
            throw ThunniniError("\(target.path): cannot write (\(reason))")
        }
        if atomically, Foundation.rename(target.path, url.path) != 0 {
            unlink(target.path)
            throw ThunniniError("\(url.path): cannot write (\(String(cString: strerror(errno))))")
        }
    }
}
