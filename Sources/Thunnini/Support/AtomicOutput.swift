import Foundation

/// A results directory that appears complete or not at all.
///
/// Every file is written into a staging directory next to the destination,
/// `DIR.partial-<pid>`; `commit()` renames it to `DIR` (one `rename(2)`, atomic
/// on one file system). An interrupted run therefore never leaves a
/// half-written `DIR`: at worst a `DIR.partial-<pid>` of a dead process,
/// which the next `AtomicOutputDirectory` for the same `DIR` removes.
///
/// An existing non-empty `DIR` is refused unless `overwrite` is true; then
/// `commit()` moves the old `DIR` aside (`DIR.old-<pid>`), renames the new
/// one into place and deletes the old one, so `DIR` is always either the old
/// or the new complete results (for an instant it does not exist).
///
/// Dropping the value without `commit()` (an error was thrown) removes the
/// staging directory, as does `abandon()`.
public final class AtomicOutputDirectory {
    /// Where the results appear on `commit()`.
    public let destination: URL
    /// Where they are written until then.
    public let staging: URL
    /// Whether an existing non-empty destination may be replaced.
    public let overwrite: Bool

    private var state: State = .open
    private enum State { case open, committed, abandoned }

    /// Prepares a staging directory for `destination` (its parent must exist).
    /// Throws if `destination` exists and is not an empty directory, unless
    /// `overwrite` (a regular file at `destination` is always refused).
    public init(destination: URL, overwrite: Bool = false) throws {
        let destination = destination.standardizedFileURL
        self.destination = destination
        self.overwrite = overwrite
        self.staging = destination.deletingLastPathComponent()
            .appendingPathComponent("\(destination.lastPathComponent).partial-\(getpid())")
        try Self.checkUsable(destination: destination, overwrite: overwrite)
        Self.removeStaleStagingDirectories(of: destination)
        let staging = staging
        try InterruptCleanup.whileWriting {
            try? FileManager.default.removeItem(at: staging)
            do {
                try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
            } catch {
                throw ThunniniError("\(staging.path): cannot create the staging directory (\(error.localizedDescription))")
            }
            InterruptCleanup.track(staging.path, true)
        }
    }

    /// Throws the error `init` would throw for `destination` (an empty path,
    /// a missing parent directory, a file, or a non-empty directory without
    /// `overwrite`), without creating anything: commands call it before they
    /// compute, so that an unusable output path is refused first.
    public static func checkUsable(destination: URL, overwrite: Bool) throws {
        guard !destination.path.isEmpty, destination.lastPathComponent != "/" else {
            throw ThunniniError("the output path is empty or the root directory")
        }
        let destination = destination.standardizedFileURL
        let parent = destination.deletingLastPathComponent()
        var parentIsDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &parentIsDirectory),
              parentIsDirectory.boolValue else {
            throw ThunniniError("\(destination.path): parent directory \(parent.path) does not exist")
        }
        guard destination.lastPathComponent.utf8.count + ".partial-4294967295".utf8.count <= 255 else {
            throw ThunniniError("\(destination.path): the directory name is too long (its staging name must fit 255 bytes)")
        }
        try checkDestination(destination, overwrite: overwrite)
    }

    /// Seconds to wait before the final rename, from THUNNINI_TEST_PAUSE_BEFORE_COMMIT:
    /// only for the test that interrupts a command while its output is staged.
    private static var pauseBeforeCommit: UInt32 {
        UInt32(ProcessInfo.processInfo.environment["THUNNINI_TEST_PAUSE_BEFORE_COMMIT"] ?? "") ?? 0
    }

    deinit {
        if state == .open { abandon() }
    }

    // MARK: - Writing

    /// Writes `value` as deterministic JSON (`JSONOutput`) to `relativePath`.
    public func write<T: Encodable>(json value: T, to relativePath: String) throws {
        let data: Data
        do {
            data = try JSONOutput.encode(value)
        } catch let error as ThunniniError {
            throw ThunniniError("\(relativePath): \(error.message)")
        }
        try write(data: data, to: relativePath)
    }

    /// Writes UTF-8 `text` to `relativePath`.
    public func write(text: String, to relativePath: String) throws {
        try write(data: Data(text.utf8), to: relativePath)
    }

    /// Writes named arrays as an `.npz` archive to `relativePath` (deflated with `compressed`).
    public func write(npz arrays: [String: Tensor], to relativePath: String, compressed: Bool = false) throws {
        try write(data: NPZ.encode(arrays, destination: relativePath, compressed: compressed), to: relativePath)
    }

    /// Writes `data` to `relativePath` inside the staging directory, creating
    /// intermediate directories; an existing file there is replaced.
    public func write(data: Data, to relativePath: String) throws {
        let url = try stagedURL(relativePath)
        try InterruptCleanup.whileWriting {
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: url)
            } catch {
                throw ThunniniError("\(url.path): cannot write (\(error.localizedDescription))")
            }
        }
    }

    /// The staged location of `relativePath`, for writers that need a URL.
    /// `relativePath` is `/`-separated, relative, without `.` or `..` parts.
    public func stagedURL(_ relativePath: String) throws -> URL {
        guard state == .open else {
            throw ThunniniError("\(destination.path): cannot write \(relativePath): the output is already \(state == .committed ? "committed" : "abandoned")")
        }
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: false)
        guard !relativePath.hasPrefix("/"), !parts.isEmpty,
              parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\0") }) else {
            throw ThunniniError("'\(relativePath)': output paths must be relative, without empty, '.' or '..' parts")
        }
        return parts.reduce(staging) { $0.appendingPathComponent(String($1)) }
    }

    // MARK: - Finishing

    /// Moves the staged results to `destination` in one rename (see the type's
    /// documentation for `overwrite`). Afterwards nothing more can be written.
    public func commit() throws {
        guard state == .open else {
            throw ThunniniError("\(destination.path): cannot commit: the output is already \(state == .committed ? "committed" : "abandoned")")
        }
        if Self.pauseBeforeCommit > 0 { sleep(Self.pauseBeforeCommit) }
        try InterruptCleanup.whileWriting { try commitNow() }
    }

    private func commitNow() throws {
        try Self.checkDestination(destination, overwrite: overwrite)
        let fileManager = FileManager.default
        var aside: URL?
        if fileManager.fileExists(atPath: destination.path), !(try Self.isEmptyDirectory(destination)) {
            // `overwrite` is true here (checkDestination refused otherwise).
            let old = destination.deletingLastPathComponent()
                .appendingPathComponent("\(destination.lastPathComponent).old-\(getpid())")
            try? fileManager.removeItem(at: old)
            try rename(destination, to: old, doing: "move the previous results aside")
            aside = old
        }
        do {
            // rename(2) replaces an empty directory atomically.
            try rename(staging, to: destination, doing: "move the results into place")
        } catch {
            if let aside { _ = Foundation.rename(aside.path, destination.path) }
            throw error
        }
        state = .committed
        InterruptCleanup.track(staging.path, false)
        if let aside { try? fileManager.removeItem(at: aside) }
    }

    /// Deletes the staging directory; the destination is left untouched.
    public func abandon() {
        guard state == .open else { return }
        state = .abandoned
        InterruptCleanup.whileWriting {
            try? FileManager.default.removeItem(at: staging)
            InterruptCleanup.track(staging.path, false)
        }
    }

    // MARK: - Helpers

    /// Throws unless the destination is absent, an empty directory, or
    /// (with `overwrite`) any directory.
    private static func checkDestination(_ destination: URL, overwrite: Bool) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: destination.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw ThunniniError("\(destination.path): exists and is not a directory; refusing to replace it")
        }
        if !overwrite, !(try Self.isEmptyDirectory(destination)) {
            throw ThunniniError("\(destination.path): already exists and is not empty; choose another directory or overwrite it explicitly")
        }
    }

    private static func isEmptyDirectory(_ url: URL) throws -> Bool {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: url.path).isEmpty
        } catch {
            throw ThunniniError("\(url.path): cannot list the directory (\(error.localizedDescription))")
        }
    }

    private func rename(_ source: URL, to target: URL, doing what: String) throws {
        guard Foundation.rename(source.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            throw ThunniniError("\(target.path): cannot \(what) (\(reason))")
        }
    }

    /// Removes `DIR.partial-<pid>` directories of `destination` whose process
    /// no longer exists (left by a killed run). Directories of live processes
    /// (another run writing the same destination) are left alone.
    static func removeStaleStagingDirectories(of destination: URL) {
        let parent = destination.deletingLastPathComponent()
        let prefix = "\(destination.lastPathComponent).partial-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
            }
        }
    }
}
