import Foundation
import Testing
@testable import Thunnini

struct RandomDeterminismTests {
    @Test("the same key gives bit-identical sequences of every sampler")
    func sameKeySameSequence() {
        let key = RandomKey(seed: 20_240_611)
        var first = RandomStream(key: key)
        var second = RandomStream(key: key)
        for _ in 0..<200 {
            #expect(first.nextUInt32() == second.nextUInt32())
            #expect(first.nextUInt64() == second.nextUInt64())
            #expect(first.uniform().bitPattern == second.uniform().bitPattern)
            #expect(first.normal().bitPattern == second.normal().bitPattern)
            #expect(first.truncatedNormal(lower: 1, upper: 3).bitPattern
                    == second.truncatedNormal(lower: 1, upper: 3).bitPattern)
            #expect(first.gamma(shape: 0.5).bitPattern == second.gamma(shape: 0.5).bitPattern)
            #expect(first.dirichlet(alphas: [0.3, 2]) == second.dirichlet(alphas: [0.3, 2]))
            #expect(first.categorical(probabilities: [0.2, 0.8])
                    == second.categorical(probabilities: [0.2, 0.8]))
        }
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
