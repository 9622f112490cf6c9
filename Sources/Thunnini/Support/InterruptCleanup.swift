import Dispatch
import Foundation

/// SIGINT and SIGTERM in commands that write: the staging directories of
/// open `AtomicOutputDirectory`s are removed and the process exits with
/// 128 + the signal number (130, 143), as a shell expects of an interrupted
/// program. Without it an interrupt during the write phase leaves
/// `DIR.partial-<pid>` behind until the next run for the same `DIR`.
///
/// The signals are received on a dispatch queue (not in an asynchronous
/// signal handler), so removing directories there is safe. Writers hold
/// `lock` while they touch a staging directory, and the handler takes it
/// before removing and never gives it back (it exits), so no write can
/// recreate a directory after it was removed, and a commit is either
/// complete (the results stay) or not started (nothing stays).
public enum InterruptCleanup {
    static let lock = NSLock()
    nonisolated(unsafe) private static var stagingPaths: Set<String> = []
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var installed = false

    /// Installs the handlers (once; later calls do nothing).
    public static func install() {
        lock.lock(); defer { lock.unlock() }
        guard !installed else { return }
        installed = true
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { interrupted(by: number, name: name) }
            source.resume()
            sources.append(source)
        }
    }

    /// Runs `body` while no interrupt can clean up (writes into, or renames, a staging directory).
    static func whileWriting<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    /// Registers (or, with `false`, forgets) a staging directory to remove on an interrupt.
    /// Call inside `whileWriting`.
    static func track(_ path: String, _ tracked: Bool) {
        if tracked { stagingPaths.insert(path) } else { stagingPaths.remove(path) }
    }

    private static func interrupted(by number: Int32, name: String) {
        lock.lock()  // never unlocked: the process ends here
        for path in stagingPaths { try? FileManager.default.removeItem(atPath: path) }
        FileHandle.standardError.write(Data("error: interrupted by \(name); no output was written\n".utf8))
        _exit(128 + number)
    }
}
