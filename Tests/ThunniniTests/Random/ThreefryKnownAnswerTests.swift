import Testing
@testable import Thunnini

/// Random123's published known answers for threefry2x32_20 (kat_vectors in
/// the Random123 distribution; the same three lines are in Random123-Boost's
/// libs/random/test/test_threefry.cpp and JAX's tests/random_test.py
/// testThreefry2x32). Each line is counter words, key words, output words.
/// Source and links: Docs/random.md.
struct ThreefryKnownAnswerTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let counter: (UInt32, UInt32)
        let key: (UInt32, UInt32)
        let expected: (UInt32, UInt32)
        var testDescription: String { "ctr \(counter) key \(key)" }
    }

    static let vectors: [Vector] = [
        Vector(counter: (0x0000_0000, 0x0000_0000), key: (0x0000_0000, 0x0000_0000),
               expected: (0x6b20_0159, 0x99ba_4efe)),
        Vector(counter: (0xffff_ffff, 0xffff_ffff), key: (0xffff_ffff, 0xffff_ffff),
               expected: (0x1cb9_96fc, 0xbb00_2be7)),
        Vector(counter: (0x243f_6a88, 0x85a3_08d3), key: (0x1319_8a2e, 0x0370_7344),
               expected: (0xc492_3a9c, 0x483d_f7a0)),
    ]

    @Test("threefry2x32_20 reproduces the Random123 known answers", arguments: vectors)
    func hashMatchesKnownAnswer(vector: Vector) {
        let output = Threefry2x32.hash(counter: vector.counter, key: vector.key)
        #expect(output.0 == vector.expected.0)
        #expect(output.1 == vector.expected.1)
    }

    @Test("fold(in:) on a seeded key is the hash of (hi32, lo32) of seed and data", arguments: vectors)
    func foldMatchesKnownAnswer(vector: Vector) {
        let seed = UInt64(vector.key.0) << 32 | UInt64(vector.key.1)
        let data = UInt64(vector.counter.0) << 32 | UInt64(vector.counter.1)
        let folded = RandomKey(seed: seed).fold(in: data)
        #expect(folded == RandomKey(word0: vector.expected.0, word1: vector.expected.1))
    }

    @Test("a stream's first 64 bits are block 0, word 0 high, word 1 low")
    func streamStartsAtBlockZero() {
        var stream = RandomStream(key: RandomKey(seed: 0))
        #expect(stream.nextUInt64() == 0x6b20_0159_99ba_4efe)
        var words = RandomStream(key: RandomKey(seed: 0))
        #expect(words.nextUInt32() == 0x6b20_0159)
        #expect(words.nextUInt32() == 0x99ba_4efe)
    }

    @Test("the rotation schedule and parity are Threefry-2x32's")
    func constants() {
        #expect(Threefry2x32.rotations == [13, 15, 26, 6, 17, 29, 16, 24])
        #expect(Threefry2x32.keyScheduleParity == 0x1BD1_1BDA)
        #expect(Threefry2x32.rounds == 20)
    }
}
