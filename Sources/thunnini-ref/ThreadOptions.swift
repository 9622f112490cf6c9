import ArgumentParser
import Thunnini

/// `--threads N`, shared by every command that computes.
struct ThreadOptions: ParsableArguments {
    @Option(name: .long, help: "Threads for the computing kernels (default: THUNNINI_THREADS, else all cores). Results do not depend on it.")
    var threads: Int?

    /// Applies `--threads` to the engine and sets up the allocator and the
    /// worker threads for long computations (call first in `run()`, inside
    /// `reportingErrors`).
    func apply() throws {
        if let threads { try Parallel.setThreadCount(threads) }
        Allocator.keepFreedBlocks()
        Parallel.spinWhileIdle()
    }
}
