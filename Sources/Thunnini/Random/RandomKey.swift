/// A key of the counter-based random engine: two 32-bit words fed to
/// Threefry-2x32 as its key.
///
/// Keys are values: they carry no hidden state, so the same key gives the
/// same numbers on every run, on every thread, in every order of use.
/// New keys come from old ones only through `split()`, `split(into:)` and
/// `fold(in:)`, all of which hash the parent key with Threefry:
///
///     child i of split(into: n) = Threefry(key, counter (hi32(i), lo32(i)))
///     fold(in: d)               = Threefry(key, counter (hi32(d), lo32(d)))
///
/// This is JAX's Threefry key discipline (with `jax_threefry_partitionable`,
/// the default since JAX 0.5): `fold(in: i)` equals child `i` of any split,
/// and a `RandomStream` of the key uses the same counters. So, as in JAX, a
/// key is *used once*: either split/folded or consumed by a stream, never
/// both (otherwise a child key equals 64 bits of the parent's stream).
public struct RandomKey: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Threefry key word 0 (JAX `key_data(key)[0]`).
    public let word0: UInt32
    /// Threefry key word 1 (JAX `key_data(key)[1]`).
    public let word1: UInt32

    /// A key with the given raw words.
    public init(word0: UInt32, word1: UInt32) {
        self.word0 = word0
        self.word1 = word1
    }

    /// The key of an integer seed: the high 32 bits of `seed` become word 0
    /// and the low 32 bits word 1 (as JAX's `jax.random.key(seed)` for a
    /// non-negative seed). No hashing happens here; seeds 0 and 1 give the
    /// keys (0, 0) and (0, 1).
    public init(seed: UInt64) {
        self.init(word0: UInt32(truncatingIfNeeded: seed >> 32),
                  word1: UInt32(truncatingIfNeeded: seed))
    }

    /// The words as Threefry's key pair.
    var words: (UInt32, UInt32) { (word0, word1) }

    /// The key hashed with the 64-bit counter `index`.
    func hashed(with index: UInt64) -> RandomKey {
        let counter = (UInt32(truncatingIfNeeded: index >> 32), UInt32(truncatingIfNeeded: index))
        let (out0, out1) = Threefry2x32.hash(counter: counter, key: words)
        return RandomKey(word0: out0, word1: out1)
    }

    /// Two new keys: children 0 and 1 of `split(into: 2)`.
    public func split() -> (RandomKey, RandomKey) {
        (hashed(with: 0), hashed(with: 1))
    }

    /// `count` new keys; key `i` is the parent hashed with counter `i`.
    ///
    /// - Precondition: `count >= 0` (a programmer error otherwise).
    public func split(into count: Int) -> [RandomKey] {
        precondition(count >= 0, "split(into:) needs a non-negative count, got \(count)")
        return (0..<count).map { hashed(with: UInt64($0)) }
    }

    /// A key derived from a tag or index `data` (a step number, a repetition,
    /// a sequence index): the parent hashed with counter `data`. Equal to
    /// JAX's `fold_in(key, data)` for `data < 2^32`.
    public func fold(in data: UInt64) -> RandomKey {
        hashed(with: data)
    }

    public var description: String {
        "RandomKey(0x" + hex(word0) + ", 0x" + hex(word1) + ")"
    }

    private func hex(_ word: UInt32) -> String {
        let digits = String(word, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    // Encoded as the two-element array [word0, word1] (JAX's key_data).
    public init(from decoder: Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let first = try container.decode(UInt32.self)
        let second = try container.decode(UInt32.self)
        if !container.isAtEnd {
            throw ThunniniError("a random key is two 32-bit words, got more")
        }
        self.init(word0: first, word1: second)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(word0)
        try container.encode(word1)
    }
}
