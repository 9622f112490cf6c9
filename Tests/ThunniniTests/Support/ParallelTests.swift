import Foundation
import Synchronization
import Testing
@testable import Thunnini

/// `Parallel.forEachChunk` on the persistent worker pool: every index of
/// every section is run exactly once, by exactly one chunk, whatever the
/// thread count, however sections follow each other, nest or come from
/// several threads at once.
@Suite struct ParallelTests {
    /// Counts how often each index was visited, across threads.
    final class Visits: @unchecked Sendable {
        let counts: UnsafeMutablePointer<Atomic<Int>>
        let size: Int
        init(_ size: Int) {
            self.size = size
            counts = .allocate(capacity: size)
            for i in 0..<size { (counts + i).initialize(to: Atomic(0)) }
        }
        deinit { counts.deinitialize(count: size); counts.deallocate() }
        func visit(_ i: Int) { counts[i].add(1, ordering: .relaxed) }
        var all: [Int] { (0..<size).map { counts[$0].load(ordering: .relaxed) } }
    }

    /// Catches a pool that lets a late worker run a chunk of a later section
    /// (an index visited twice, another never) or returns before every chunk
    /// finished (an index visited zero times when the caller checks).
    @Test("thousands of short sections back to back: every index once, at 2, 3 and 5 threads",
          arguments: [2, 3, 5])
    func shortSectionsBackToBack(threads: Int) {
        Parallel.$threadCountOverride.withValue(threads) {
            for section in 0..<3000 {
                let count = 1 + section % 11
                let visits = Visits(count)
                Parallel.forEachChunk(of: count) { chunk in
                    for i in chunk { visits.visit(i) }
                }
                let seen = visits.all
                if seen != Array(repeating: 1, count: count) {
                    Issue.record("section \(section) with \(count) indices at \(threads) threads: visits \(seen)")
                    return
                }
            }
        }
    }

    /// Catches a claim that pairs one section's (generation, index) with the
    /// next section's chunk count: after a 2-chunk section, a late worker
    /// saw index 2 as claimable once the next 3-chunk section had published
    /// its count but not yet its generation, and ran that section's chunk 2
    /// a second time (CI crashed in `withoutActuallyEscaping` when the extra
    /// chunk outlived its section). Every section here grows from 2 to 3
    /// chunks, the pattern that exposed it; the old pool crashed or failed
    /// this test in each of three runs, each within a second.
    @Test("sections alternating 2 and 3 chunks: every index once")
    func alternatingChunkCounts() {
        var failures = 0
        for section in 0..<400_000 {
            let threads = 2 + section % 2
            Parallel.$threadCountOverride.withValue(threads) {
                let visits = Visits(threads)
                Parallel.forEachChunk(of: threads) { chunk in
                    for i in chunk { visits.visit(i) }
                }
                if visits.all != Array(repeating: 1, count: threads) { failures += 1 }
            }
        }
        #expect(failures == 0)
    }

    /// The command line's setting (`spinWhileIdle`): workers spin up to two
    /// milliseconds between sections, reading the clock every 1024 loads,
    /// then sleep. Gaps of none, 0.2 ms (caught while spinning) and 3 ms
    /// (asleep, woken) between sections; catches a worker that misses a new
    /// section after its clock check (a hang) or runs a chunk twice.
    @Test("workers spinning between sections (the command line's pool) run every index once, across short and long gaps")
    func spinningWorkers() {
        let pool = WorkerPool()
        pool.spinWhileIdle()
        var failures = 0
        for section in 0..<300 {
            let chunks = 2 + section % 2
            let visits = Visits(chunks)
            pool.run(chunks: chunks) { visits.visit($0) }
            if visits.all != Array(repeating: 1, count: chunks) { failures += 1 }
            if section % 60 == 59 { usleep(3_000) } else if section % 6 == 5 { usleep(200) }
        }
        #expect(failures == 0)
    }

    /// A new pool's first section runs on its new worker too, even when the
    /// worker thread starts (50 ms late here) after the section was
    /// published: chunk 0 (the caller's) waits until another thread has run
    /// chunk 1. Fails (after the five-second wait) if a late worker skips
    /// the section, as one did that took the generation current at its
    /// start as already seen: the caller then ran both chunks alone.
    @Test("a new pool's first section runs on its new worker, not on the caller alone")
    func firstSectionUsesNewWorker() {
        let pool = WorkerPool(workerStartDelay: 50_000)
        let secondDone = Atomic<Bool>(false)
        let ranConcurrently = Atomic<Bool>(false)
        pool.run(chunks: 2) { chunk in
            if chunk == 1 {
                secondDone.store(true, ordering: .releasing)
                return
            }
            let deadline = DispatchTime.now().uptimeNanoseconds + 5_000_000_000
            while DispatchTime.now().uptimeNanoseconds < deadline {
                if secondDone.load(ordering: .acquiring) {
                    ranConcurrently.store(true, ordering: .relaxed)
                    return
                }
                usleep(100)
            }
        }
        let concurrent = ranConcurrently.load(ordering: .relaxed)
        #expect(concurrent, "chunk 1 did not run while chunk 0 waited")
    }

    /// A section started from inside a chunk (nested) runs inline instead of
    /// waiting for the busy pool, which would deadlock.
    @Test("nested sections complete and visit every index once")
    func nestedSections() {
        Parallel.$threadCountOverride.withValue(3) {
            let visits = Visits(12 * 7)
            Parallel.forEachChunk(of: 12) { outer in
                for i in outer {
                    Parallel.forEachChunk(of: 7) { inner in
                        for j in inner { visits.visit(i * 7 + j) }
                    }
                }
            }
            #expect(visits.all == Array(repeating: 1, count: 12 * 7))
        }
    }

    /// Several threads calling at once (as Swift Testing's parallel tests
    /// do): one gets the pool, the others run inline; all complete correctly.
    @Test("concurrent callers from several threads each get every index once")
    func concurrentCallers() {
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            Parallel.$threadCountOverride.withValue(2 + caller % 2) {
                for section in 0..<500 {
                    let count = 2 + (section + caller) % 9
                    let visits = Visits(count)
                    Parallel.forEachChunk(of: count) { chunk in
                        for i in chunk { visits.visit(i) }
                    }
                    if visits.all != Array(repeating: 1, count: count) { failures.add(1, ordering: .relaxed) }
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    /// The chunk boundaries depend on the thread count only, never on which
    /// thread ran a chunk: the same ranges every time.
    @Test("chunk boundaries are contiguous, ordered and the same on every run")
    func chunkBoundaries() {
        Parallel.$threadCountOverride.withValue(3) {
            for _ in 0..<200 {
                let lock = NSLock()
                var ranges: [Range<Int>] = []
                Parallel.forEachChunk(of: 10) { chunk in
                    lock.lock(); ranges.append(chunk); lock.unlock()
                }
                #expect(ranges.sorted { $0.lowerBound < $1.lowerBound } == [0..<3, 3..<6, 6..<10])
            }
        }
    }
}
