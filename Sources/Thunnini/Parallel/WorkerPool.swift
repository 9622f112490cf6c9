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
/// A section publishes its body, then one atomic word holding a new
/// generation number, its chunk count and the next chunk index; every thread
/// (the caller included) claims chunk indices one at a time with a
/// compare-and-swap on that word. The chunk count must live in the same word:
/// when it was a separate variable, a late worker could pair the previous
/// section's exhausted (generation, index) with the next section's larger
/// count while that section was being published, claim a chunk that did not
/// exist, and run the next section's body twice for one index (a crash in
/// `withoutActuallyEscaping`, seen in CI and reproduced by ParallelTests).
/// The caller returns when every chunk has finished. Chunks are independent
/// outputs, so the results do not depend on which thread ran which chunk.
final class WorkerPool: @unchecked Sendable {
    /// The process's pool; it grows to the largest thread count asked for.
    static let shared = WorkerPool()

    /// Generation in bits 32-63, chunk count in bits 16-31, next chunk index
    /// in bits 0-15 (`ClaimState`).
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
    /// Guarded by `growth`.
    private var workerCount = 0
    /// How long a new worker thread waits before it starts looking for
    /// work, in microseconds: 0, except in a test that makes a worker start
    /// after the section it was created for has been published.
    private let workerStartDelay: UInt32

    init(workerStartDelay: UInt32 = 0) {
        self.workerStartDelay = workerStartDelay
    }

    /// Atomic loads a waiting thread spins before it yields (the caller) or
    /// sleeps (a worker): a few microseconds, longer than the gap between
    /// the sections of a layer, short enough not to take much time from
    /// other threads of the process (the tests run many at once).
    private static let spinLimit = 4_000

    /// How long an idle worker keeps spinning before it sleeps, once
    /// `spinWhileIdle()` was called and while the pool's threads (the
    /// caller's included) do not outnumber the cores. The serial code
    /// between two sections of a training step (the loss, the optimizer,
    /// copies) takes up to about a millisecond, and a sleeping worker wakes
    /// 40-200 us after the next section starts on this project's machines,
    /// while the caller finishes its own chunk and waits (measured in
    /// Docs/performance.md). A worker with a core of its own takes nothing
    /// from anyone by spinning; in a process that runs other work beside the
    /// kernels (the test runner), or with more threads than cores, workers
    /// sleep after `spinLimit` loads.
    static let idleSpinNanoseconds: UInt64 = 2_000_000
    /// Whether `spinWhileIdle()` was called.
    private let spinWhileIdleRequested = Atomic<Bool>(false)
    /// Whether workers spin for `idleSpinNanoseconds` now.
    private let spinsLong = Atomic<Bool>(false)

    /// Lets idle workers spin for `idleSpinNanoseconds` (a command-line run
    /// whose process does nothing but the computation).
    func spinWhileIdle() {
        growth.lock()
        defer { growth.unlock() }
        spinWhileIdleRequested.store(true, ordering: .relaxed)
        updateSpinning()
    }

    /// Guarded by `growth`.
    private func updateSpinning() {
        let fits = workerCount + 1 <= ProcessInfo.processInfo.activeProcessorCount
        spinsLong.store(spinWhileIdleRequested.load(ordering: .relaxed) && fits, ordering: .relaxed)
    }

    /// Runs `body(0) ... body(chunks - 1)`, concurrently on the pool when it is free.
    /// `chunks` is at most `maximumChunks`.
    func run(chunks: Int, _ body: (Int) -> Void) {
        precondition(chunks <= Self.maximumChunks, "WorkerPool: \(chunks) chunks, at most \(Self.maximumChunks)")
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        defer { running.store(false, ordering: .releasing) }
        ensureWorkers(chunks - 1)
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            unfinished.store(chunks, ordering: .relaxed)
            let generation = ClaimState.next(after: ClaimState.generation(claimState.load(ordering: .relaxed)))
            claimState.store(ClaimState.first(generation: generation, chunks: chunks), ordering: .sequentiallyConsistent)
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
            let index = ClaimState.index(state)
            guard ClaimState.generation(state) == generation, index < ClaimState.chunks(state) else { return }
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
        guard workerCount < count else { return }
        // The generation before the section about to be published: a new
        // thread that starts after it was published (thread start-up takes
        // longer than publishing) must still take part in it, not wait for
        // the next one.
        let seen = ClaimState.generation(claimState.load(ordering: .acquiring))
        while workerCount < count {
            let delay = workerStartDelay
            let thread = Thread { [unowned self] in
                if delay > 0 { usleep(delay) }
                self.workerLoop(seen: seen)
            }
            thread.name = "thunnini-worker-\(workerCount)"
            thread.start()
            workerCount += 1
        }
        updateSpinning()
    }

    /// Runs the chunks of every section after generation `seen`.
    private func workerLoop(seen start: Int) {
        var seen = start
        while true {
            var spins = 0
            var spinUntil: UInt64 = 0
            while ClaimState.generation(claimState.load(ordering: .acquiring)) == seen {
                spins += 1
                guard spins > Self.spinLimit else { continue }
                if spinsLong.load(ordering: .relaxed) {
                    // Read the clock once per 1024 loads only.
                    spins = Self.spinLimit - 1024
                    let now = DispatchTime.now().uptimeNanoseconds
                    if spinUntil == 0 { spinUntil = now + Self.idleSpinNanoseconds }
                    if now < spinUntil { continue }
                }
                wakeUp.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while ClaimState.generation(claimState.load(ordering: .sequentiallyConsistent)) == seen { wakeUp.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                wakeUp.unlock()
            }
            seen = ClaimState.generation(claimState.load(ordering: .acquiring))
            runClaimedChunks(generation: seen)
        }
    }

    /// The most chunks a section may have (16 bits of the claim word).
    static let maximumChunks = 0xFFFF

    /// The fields of the claim word. The generation wraps from 2^31 - 1 to 0;
    /// a worker would have to sleep through 2^31 sections to confuse two.
    private enum ClaimState {
        static func next(after generation: Int) -> Int { (generation + 1) & 0x7FFF_FFFF }
        static func first(generation: Int, chunks: Int) -> Int { (generation << 32) | (chunks << 16) }
        static func generation(_ state: Int) -> Int { state >> 32 }
        static func chunks(_ state: Int) -> Int { (state >> 16) & 0xFFFF }
        static func index(_ state: Int) -> Int { state & 0xFFFF }
    }
}
