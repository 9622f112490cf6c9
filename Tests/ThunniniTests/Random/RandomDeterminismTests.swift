import Foundation
import Testing
@testable import Thunnini

struct RandomDeterminismTests {
    /// A stream's draws are the documented functions of the Threefry blocks
    /// `H(key, 0), H(key, 1), ...` (Docs/random.md, section 3), computed
    /// here from `Threefry2x32.hash` alone: the words in order (word 0 then
    /// word 1 of each block), `nextUInt64` as high word first, `uniform` as
    /// the top 53 bits times 2^-53, and `normal` as Box-Muller's cosine
    /// branch of `1 - uniform` and `uniform` (four words). Fails for a
    /// skipped or reordered word, a shift other than 11, another scale, or
    /// a normal that consumes other words (e.g. the sine partner cached).
    @Test func streamDrawsAreTheDocumentedFunctionsOfTheBlocks() {
        let key = RandomKey(seed: 20_240_611)
        var words: [UInt32] = []
        for block in 0..<UInt64(200) {
            let (w0, w1) = Threefry2x32.hash(counter: (UInt32(block >> 32), UInt32(truncatingIfNeeded: block)), key: (key.word0, key.word1))
            words += [w0, w1]
        }
        var next = 0
        func word() -> UInt32 { defer { next += 1 }; return words[next] }
        func uint64() -> UInt64 { UInt64(word()) << 32 | UInt64(word()) }
        func uniform() -> Double { Double(uint64() >> 11) / 9_007_199_254_740_992 }
        var stream = RandomStream(key: key)
        for _ in 0..<20 {
            #expect(stream.nextUInt32() == word())
            #expect(stream.nextUInt64() == uint64())
            #expect(stream.uniform().bitPattern == uniform().bitPattern)
            let radius = (-2.0 * log(1.0 - uniform())).squareRoot()
            #expect(stream.normal().bitPattern == (radius * cos(2.0 * Double.pi * uniform())).bitPattern)
        }
        #expect(next == 20 * 9)
    }

    @Test("a seed's key holds the seed's two halves")
    func seedLayout() {
        let key = RandomKey(seed: 0x0123_4567_89ab_cdef)
        #expect(key.word0 == 0x0123_4567)
        #expect(key.word1 == 0x89ab_cdef)
    }

    @Test("split children differ from the parent and from each other")
    func splitChildrenAreDistinct() {
        let parent = RandomKey(seed: 42)
        let children = parent.split(into: 64)
        #expect(Set(children).count == 64)
        #expect(!children.contains(parent))

        let (left, right) = parent.split()
        #expect(left == children[0])
        #expect(right == children[1])

        // Their streams differ too (first 8 words).
        var streams = children.prefix(8).map { RandomStream(key: $0) }
        var prefixes: [[UInt32]] = []
        for index in streams.indices {
            prefixes.append((0..<8).map { _ in streams[index].nextUInt32() })
        }
        var parentStream = RandomStream(key: parent)
        let parentPrefix = (0..<8).map { _ in parentStream.nextUInt32() }
        #expect(Set(prefixes).count == prefixes.count)
        #expect(!prefixes.contains(parentPrefix))
    }

    @Test("fold(in: i) is child i of a split; distinct tags give distinct keys")
    func foldMatchesSplit() {
        let parent = RandomKey(seed: 7)
        let children = parent.split(into: 100)
        for index in 0..<100 {
            #expect(parent.fold(in: UInt64(index)) == children[index])
        }
        #expect(Set((0..<1000).map { parent.fold(in: UInt64($0)) }).count == 1000)
        #expect(parent.split(into: 0).isEmpty)
    }

    @Test("different seeds give different keys and streams")
    func differentSeedsDiffer() {
        var streamA = RandomStream(key: RandomKey(seed: 1))
        var streamB = RandomStream(key: RandomKey(seed: 2))
        let wordsA = (0..<16).map { _ in streamA.nextUInt32() }
        let wordsB = (0..<16).map { _ in streamB.nextUInt32() }
        #expect(wordsA != wordsB)
    }

    @Test("a key survives JSON as the array [word0, word1]")
    func keyCodableRoundTrip() throws {
        let key = RandomKey(seed: 99).fold(in: 3)
        let data = try JSONEncoder().encode(key)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text == "[\(key.word0),\(key.word1)]")
        #expect(try JSONDecoder().decode(RandomKey.self, from: data) == key)
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(RandomKey.self, from: Data("[1,2,3]".utf8))
        }
    }

    @Test("tensor fillers are the stream's draws in row-major order")
    func tensorFillersFollowTheStream() {
        let key = RandomKey(seed: 5)
        let uniform = Tensor.uniform(shape: [3, 4], key: key)
        let normal = Tensor.normal(shape: [2, 5], key: key)
        let truncated = Tensor.truncatedNormal(shape: [7], lower: -2, upper: 2, key: key)
        #expect(uniform.shape == [3, 4])
        var stream = RandomStream(key: key)
        for index in 0..<12 { #expect(uniform.storage[index] == stream.uniform()) }
        stream = RandomStream(key: key)
        for index in 0..<10 { #expect(normal.storage[index] == stream.normal()) }
        stream = RandomStream(key: key)
        for index in 0..<7 {
            #expect(truncated.storage[index] == stream.truncatedNormal(lower: -2, upper: 2))
        }
        #expect(Tensor.normal(shape: [0], key: key).count == 0)
    }

    @Test("results do not depend on the thread that draws them")
    func threadIndependence() {
        let key = RandomKey(seed: 11)
        let reference = Tensor.normal(shape: [500], key: key)
        let lock = NSLock()
        var results: [Tensor] = []
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let tensor = Tensor.normal(shape: [500], key: key)
            lock.lock(); results.append(tensor); lock.unlock()
        }
        #expect(results.count == 4)
        #expect(results.allSatisfy { $0 == reference })
    }

    @Test("uniform(in:) stays inside its half-open range")
    func uniformInRange() {
        var stream = RandomStream(key: RandomKey(seed: 3))
        for _ in 0..<2000 {
            let value = stream.uniform(in: -1.5..<2.5)
            #expect(value >= -1.5 && value < 2.5)
        }
        // A range one ulp wide can only return its lower bound.
        let lower = 1.0
        for _ in 0..<100 {
            #expect(stream.uniform(in: lower..<lower.nextUp) == lower)
        }
    }
}
