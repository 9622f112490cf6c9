import Foundation

/// How many threads the fast kernels use, and the one way they split work.
///
/// Determinism rule (Docs/performance.md): work is split only across
/// independent outputs (batch rows, kernel rows), never inside a sum, so every
/// output element is computed by the same floating-point operations whatever
/// the thread count. Results are therefore byte-identical at 1 thread and at
/// any other count.
public enum Parallel {
    /// Guards `configuredThreads`; set once at start-up by the command line.
    private static let lock = NSLock()
    nonisolated(unsafe) private static var configuredThreads: Int?

    /// A thread count for the current task only (tests compare thread counts
    /// side by side with `Parallel.$threadCountOverride.withValue(n) { ... }`).
    @TaskLocal public static var threadCountOverride: Int?

    /// Threads the kernels may use: the task's override, else `--threads`,
    /// else the environment variable `THUNNINI_THREADS`, else every active core.
    public static var threadCount: Int {
        if let threadCountOverride { return max(1, min(threadCountOverride, maximumThreads)) }
        lock.lock(); defer { lock.unlock() }
        if let configuredThreads { return configuredThreads }
        if let text = ProcessInfo.processInfo.environment["THUNNINI_THREADS"],
           let value = Int(text), value >= 1 {
            return min(value, maximumThreads)
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Upper bound accepted for a thread count.
    public static let maximumThreads = 1024

    /// Sets the thread count for the rest of the process (the `--threads` option).
    /// - Throws: `ThunniniError` when `count` is not in `1...maximumThreads`.
    public static func setThreadCount(_ count: Int) throws {
        guard (1...maximumThreads).contains(count) else {
            throw ThunniniError("invalid --threads \(count): must be between 1 and \(maximumThreads)")
        }
        lock.lock(); defer { lock.unlock() }
        configuredThreads = count
    }

    /// Lets the kernels' idle worker threads spin for up to two milliseconds
    /// between parallel sections instead of a few microseconds, so that the
    /// next section does not wait for a sleeping thread to wake. For a
    /// process that does nothing but the computation (the command line);
    /// ignored while there are more threads than cores. Changes no result.
    public static func spinWhileIdle() {
        WorkerPool.shared.spinWhileIdle()
    }

    /// Splits `0..<count` into at most `threadCount` contiguous chunks of
    /// near-equal size and runs `body` on each, concurrently. Each output must
    /// be written by exactly one chunk; `body` must not depend on the chunking.
    /// Runs inline when one chunk suffices (or `count` is below `minimumPerChunk`).
    ///
    /// The chunk boundaries depend only on `count`, `minimumPerChunk` and
    /// the thread count; which thread runs a chunk does not matter. Chunks run
    /// on `WorkerPool.shared` (persistent threads, so a parallel section costs
    /// about a microsecond rather than a thread wake-up); when the pool is
    /// already running a section (a nested call, or a second caller thread),
    /// the chunks run one after the other on the calling thread instead.
    public static func forEachChunk(of count: Int, minimumPerChunk: Int = 1,
                                    _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threadCount, max(1, count / max(1, minimumPerChunk)))
        if chunks == 1 {
            body(0..<count)
            return
        }
        WorkerPool.shared.run(chunks: chunks) { chunk in
            let start = count * chunk / chunks
            let end = count * (chunk + 1) / chunks
            if start < end { body(start..<end) }
        }
    }
}
