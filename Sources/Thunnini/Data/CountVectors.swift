/// Enumeration of count vectors: all m in N^V with m_1 + ... + m_V = n.
///
/// There are C(n + V - 1, V - 1) of them ("stars and bars"), and
/// sum_{n=0}^{N-1} C(n + V - 1, V - 1) = C(N - 1 + V, V) for all lengths
/// below N (the hockey-stick identity).
enum CountVectors {
    /// Calls `body` once for every count vector of `total` tokens over
    /// `parts` symbols, in reverse lexicographic order starting at
    /// (total, 0, ..., 0). `parts` must be >= 1 and `total` >= 0.
    static func forEach(total: Int, parts: Int, _ body: ([Int]) -> Void) {
        var counts = [Int](repeating: 0, count: parts)
        counts[0] = total
        while true {
            body(counts)
            // Next composition: take the mass of the last slot, remove one
            // unit from the rightmost non-empty slot before it, and put the
            // unit plus that mass into the slot right after it.
            let tail = counts[parts - 1]
            counts[parts - 1] = 0
            var slot = parts - 2
            while slot >= 0 && counts[slot] == 0 { slot -= 1 }
            if slot < 0 { return }
            counts[slot] -= 1
            counts[slot + 1] = tail + 1
        }
    }

    /// C(N - 1 + V, V): how many count vectors there are over all lengths
    /// 0..<N with V symbols, as a Double; stops multiplying once it exceeds
    /// `cap`, so huge V or N cannot overflow or take long.
    static func totalCount(length: Int, vocabSize: Int, cap: Double) -> Double {
        guard length >= 1 else { return 0 }
        // C(N - 1 + V, V) = prod_{k=1}^{V} (N - 1 + k) / k, every partial
        // product being itself a binomial coefficient C(N - 1 + k, k).
        var value = 1.0
        for k in 1...vocabSize {
            value = value * Double(length - 1 + k) / Double(k)
            if value > cap { return value }
        }
        return value.rounded()
    }
}
