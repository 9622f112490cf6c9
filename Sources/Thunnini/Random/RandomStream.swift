/// A deterministic stream of random numbers from one `RandomKey`.
///
/// Block `b` (b = 0, 1, 2, ...) of the stream is `Threefry(key, counter
/// (hi32(b), lo32(b)))`, two 32-bit words; `nextUInt32()` returns the words
/// in order, word 0 of each block first. Nothing else is hidden in the
/// state, so a stream is reproduced exactly by re-creating it from its key
/// and making the same calls. A fresh stream's `nextUInt64()` values are
/// `word0 << 32 | word1` of blocks 0, 1, 2, ..., which is JAX's partitionable
/// `random_bits(key, 64, (n,))` layout.
///
/// The samplers below consume words from the stream; the number of words a
/// sampler takes is documented where it is not fixed (rejection samplers).
/// Do not `split` or `fold` a key that also feeds a stream (see `RandomKey`).
public struct RandomStream {
    /// The key this stream hashes its counters with.
    public let key: RandomKey
    /// Index of the next Threefry block to compute.
    private var nextBlock: UInt64 = 0
    /// Word 1 of the last block, when word 0 has been handed out but not it.
    private var pendingWord: UInt32? = nil

    /// A stream starting at block 0 of `key`.
    public init(key: RandomKey) {
        self.key = key
    }

    /// The next 32 random bits.
    public mutating func nextUInt32() -> UInt32 {
        if let word = pendingWord {
            pendingWord = nil
            return word
        }
        // 2^64 blocks is far beyond any run; wrapping would repeat the stream.
        precondition(nextBlock != UInt64.max, "random stream exhausted (2^64 blocks)")
        let counter = (UInt32(truncatingIfNeeded: nextBlock >> 32), UInt32(truncatingIfNeeded: nextBlock))
        let (out0, out1) = Threefry2x32.hash(counter: counter, key: key.words)
        nextBlock += 1
        pendingWord = out1
        return out0
    }

    /// The next 64 random bits: two words, the first as the high half.
    public mutating func nextUInt64() -> UInt64 {
        let high = UInt64(nextUInt32())
        let low = UInt64(nextUInt32())
        return (high << 32) | low
    }

    /// A uniform draw from [0, 1) on the grid k / 2^53, k = 0 ... 2^53 - 1:
    /// the top 53 bits of `nextUInt64()` times 2^-53. Every grid point has
    /// probability exactly 2^-53, and every result is exactly representable.
    public mutating func uniform() -> Double {
        Double(nextUInt64() >> 11) * 0x1p-53
    }

    /// A uniform draw from (0, 1]: `1 - uniform()`, the grid (k + 1) / 2^53
    /// (exact, since 1 - k/2^53 is representable). Used where the logarithm
    /// of the draw is taken, so that it is never log(0).
    mutating func uniformPositive() -> Double {
        1.0 - uniform()
    }

    /// A uniform draw from `range`: `lower + (upper - lower) * uniform()`.
    ///
    /// Rounding can carry `lower + width * u` up to `upper`; such a value is
    /// replaced by the largest double below `upper`, so the result always
    /// lies in the half-open range.
    /// - Precondition: both bounds finite and `lower < upper`.
    public mutating func uniform(in range: Range<Double>) -> Double {
        precondition(range.lowerBound.isFinite && range.upperBound.isFinite,
                     "uniform(in:) needs finite bounds, got \(range)")
        precondition(!range.isEmpty, "uniform(in:) needs a non-empty range, got \(range)")
        let width = range.upperBound - range.lowerBound
        let value = range.lowerBound + width * uniform()
        return value < range.upperBound ? value : range.upperBound.nextDown
    }
}
