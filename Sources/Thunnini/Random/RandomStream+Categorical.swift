extension RandomStream {
    /// An index drawn with the given probabilities, by inverting the CDF at
    /// one uniform: with S = sum of the probabilities and u = uniform() * S,
    /// the result is the first i whose running sum p_0 + ... + p_i exceeds u.
    ///
    /// The probabilities are divided by their sum (implicitly, via S), so
    /// rounding in a vector that should sum to 1 does no harm. Zero entries
    /// are never chosen. Takes two words (one uniform).
    /// - Precondition: non-empty, every entry finite and >= 0, sum > 0.
    public mutating func categorical(probabilities: [Double]) -> Int {
        precondition(!probabilities.isEmpty, "categorical needs at least one probability")
        var total = 0.0
        for index in 0..<probabilities.count {
            let probability = probabilities[index]
            precondition(probability >= 0 && probability.isFinite,
                         "categorical needs finite probabilities >= 0, got \(probability) at \(index)")
            total += probability
        }
        precondition(total > 0, "categorical needs probabilities with a positive sum")

        let target = uniform() * total
        var cumulative = 0.0
        var lastPositive = 0
        for index in 0..<probabilities.count where probabilities[index] > 0 {
            cumulative += probabilities[index]
            if target < cumulative { return index }
            lastPositive = index
        }
        // Only reached if rounding left the running sum at or below target.
        return lastPositive
    }
}
