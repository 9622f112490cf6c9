import Foundation
import Synchronization

/// Persistent worker threads for `Parallel.forEachChunk`.
///
/// Why not `DispatchQueue.concurrentPerform`: on Linux its worker threads
/// sleep between calls, and waking one takes longer than many of the
/// kernels' parallel sections last (a block of LSTM steps, a LayerNorm), so
/// two threads finished such a section later than one would have (measured
/// in Docs/performance.md). Here the workers spin for a short while after each
/// section, so the next one starts at once, and then sleep.
///
/// A section publishes its chunk count and body under a new generation
/// number; every thread (the caller included) claims chunk indices one at a
/// time with a compare-and-swap on (generation, next index), so a late worker
/// can never claim a chunk of a later section. The caller returns when every
/// chunk has finished. Chunks are independent outputs, so the results do not
/// depend on which thread ran which chunk.
final class WorkerPool: @unchecked Sendable {
    /// The process's pool; it grows to the largest thread count asked for.
    static let shared = WorkerPool()

    /// Generation in the high 32 bits, next chunk index in the low 32.
    private let claimState = Atomic<Int>(0)
    /// Chunks of the current section not yet finished.
    private let unfinished = Atomic<Int>(0)
    /// Whether a section is running (nested or concurrent callers run inline).
    private let running = Atomic<Bool>(false)
    /// Workers asleep on `wakeUp`.
    private let sleepers = Atomic<Int>(0)
    private let wakeUp = NSCondition()
    private let growth = NSLock()
    /// The current section, valid while its chunks are unfinished.
    private var body: ((Int) -> Void)?
    /// The current section's number of chunks.
    private let chunkCount = Atomic<Int>(0)
    /// Guarded by `growth`.
    private var workerCount = 0

    /// Atomic loads a waiting thread spins before it yields (the caller) or
    /// sleeps (a worker): a few microseconds, longer than the gap between
    /// the sections of a layer, short enough not to take much time from
    /// other threads of the process (the tests run many at once).
    private static let spinLimit = 4_000

    /// Runs `body(0) ... body(chunks - 1)`, concurrently on the pool when it is free.
    func run(chunks: Int, _ body: (Int) -> Void) {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        defer { running.store(false, ordering: .releasing) }
        ensureWorkers(chunks - 1)
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            chunkCount.store(chunks, ordering: .relaxed)
            unfinished.store(chunks, ordering: .relaxed)
            let generation = (claimState.load(ordering: .relaxed) >> 32) + 1
            claimState.store(generation << 32, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wakeUp.lock()
                wakeUp.broadcast()
                wakeUp.unlock()
            }
            runClaimedChunks(generation: generation)
            var spins = 0
            while unfinished.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > Self.spinLimit { sched_yield() }
            }
            self.body = nil
        }
    }

    /// Claims and runs chunks of section `generation` until none is left.
    private func runClaimedChunks(generation: Int) {
        while true {
            let state = claimState.load(ordering: .acquiring)
            let index = state & 0xFFFF_FFFF
            guard state >> 32 == generation, index < chunkCount.load(ordering: .relaxed) else { return }
            guard claimState.compareExchange(expected: state, desired: state + 1, ordering: .acquiringAndReleasing).exchanged else {
                continue
            }
            body!(index)
            unfinished.subtract(1, ordering: .releasing)
        }
    }

    private func ensureWorkers(_ count: Int) {
        growth.lock()
        defer { growth.unlock() }
        while workerCount < count {
            let thread = Thread { [unowned self] in self.workerLoop() }
            thread.name = "thunnini-worker-\(workerCount)"
            thread.start()
            workerCount += 1
        }
    }

    private func workerLoop() {
        var seen = claimState.load(ordering: .acquiring) >> 32
        while true {
            var spins = 0
            while claimState.load(ordering: .acquiring) >> 32 == seen {
                spins += 1
                guard spins > Self.spinLimit else { continue }
                wakeUp.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while claimState.load(ordering: .sequentiallyConsistent) >> 32 == seen { wakeUp.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                wakeUp.unlock()
            }
            seen = claimState.load(ordering: .acquiring) >> 32
            runClaimedChunks(generation: seen)
        }
    }
}
