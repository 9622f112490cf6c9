/// Exhaustive search for the best hard (one-hot) prefix (HardPT in the
/// original's experiment notebook): every one of the V^K token strings of
/// length K is tried on a fixed set of tuning sequences, and the one with the
/// lowest mean cumulative loss of the sequence tokens wins (prefix positions
/// are not scored). Ties go to the first candidate in enumeration order:
/// candidate i, written in base V with K digits (first position most
/// significant), has token `V - 1 - digit` at each position, which for V = 2
/// is the experiment notebook's `int_to_binary_one_hot` order.
public enum HardPrefixSearch {
    /// Largest number of candidates (V^K) searched; above it the search is refused.
    public static let candidateLimit = 1 << 16

    /// The result of a search.
    public struct Result: Sendable {
        /// The winning prefix, K x V one-hot.
        public var prefix: Tensor
        /// Its tokens.
        public var tokens: [Int]
        /// Its mean cumulative loss on the search sequences.
        public var loss: Double
        /// Mean cumulative loss of every candidate, in enumeration order.
        public var candidateLosses: [Double]
    }

    /// All V^K token strings in search order (see the type's doc), after checking the limit.
    public static func candidates(vocabSize: Int, length: Int) throws -> [[Int]] {
        guard length >= 1 else { throw ThunniniError("hard prefix length must be >= 1, got \(length)") }
        var count = 1
        for _ in 0..<length {
            count *= vocabSize
            guard count <= candidateLimit else {
                throw ThunniniError("hard-prefix search over \(vocabSize)^\(length) candidates exceeds the limit of \(candidateLimit)")
            }
        }
        return (0..<count).map { index in
            var tokens = [Int](repeating: 0, count: length)
            var rest = index
            for k in (0..<length).reversed() { tokens[k] = vocabSize - 1 - rest % vocabSize; rest /= vocabSize }
            return tokens
        }
    }

    /// A K x V one-hot prefix of `tokens`.
    public static func oneHot(_ tokens: [Int], vocabSize: Int) -> Tensor {
        var prefix = Tensor(shape: [tokens.count, vocabSize])
        for (k, token) in tokens.enumerated() { prefix.storage[k * vocabSize + token] = 1 }
        return prefix
    }

    /// Searches with `score(prefix) -> mean cumulative loss`; `onCandidate`
    /// gets the number of candidates scored so far and the last one's loss.
    static func search(vocabSize: Int, length: Int, onCandidate: ((Int, Double) -> Void)? = nil,
                       score: (Tensor) throws -> Double) throws -> Result {
        let all = try candidates(vocabSize: vocabSize, length: length)
        let losses = try scores(all, vocabSize: vocabSize, onCandidate: onCandidate, score: score)
        return try choose(vocabSize: vocabSize, length: length, candidateLosses: losses)
    }

    /// The loss of each of `tokenStrings`, in order.
    static func scores(_ tokenStrings: [[Int]], vocabSize: Int, onCandidate: ((Int, Double) -> Void)?,
                       score: (Tensor) throws -> Double) throws -> [Double] {
        var losses: [Double] = []
        for tokens in tokenStrings {
            losses.append(try score(oneHot(tokens, vocabSize: vocabSize)))
            onCandidate?(losses.count, losses.last!)
        }
        return losses
    }

    /// The winner among all V^K candidates given the loss of each, in
    /// enumeration order: the lowest loss, ties (and a NaN, which is never
    /// lower) going to the earlier candidate. The search's one rule, whether
    /// the losses were computed in one process or in ranges by several.
    public static func choose(vocabSize: Int, length: Int, candidateLosses losses: [Double]) throws -> Result {
        let all = try candidates(vocabSize: vocabSize, length: length)
        guard losses.count == all.count else {
            throw ThunniniError("hard-prefix search: \(losses.count) candidate losses for \(all.count) candidates")
        }
        var best = 0
        for (index, loss) in losses.enumerated() where loss < losses[best] { best = index }
        return Result(prefix: oneHot(all[best], vocabSize: vocabSize), tokens: all[best], loss: losses[best], candidateLosses: losses)
    }

    /// The best hard prefix for a neural predictor (prefix type `prepend`);
    /// `onCandidate` reports progress (candidates scored, the last one's loss).
    public static func search(predictor: Predictor, parameters: ParameterTree, sequences: Tensor, length: Int,
                              batchSize: Int? = nil, onCandidate: ((Int, Double) -> Void)? = nil) throws -> Result {
        let all = try candidates(vocabSize: predictor.config.tokenDimensionality, length: length)
        let losses = try self.losses(predictor: predictor, parameters: parameters, sequences: sequences, candidates: all,
                                     batchSize: batchSize, onCandidate: onCandidate)
        return try choose(vocabSize: predictor.config.tokenDimensionality, length: length, candidateLosses: losses)
    }

    /// The mean cumulative loss on `sequences` of the neural predictor behind
    /// each of `candidates` (token strings, e.g. a range of `candidates(...)`).
    public static func losses(predictor: Predictor, parameters: ParameterTree, sequences: Tensor, candidates: [[Int]],
                              batchSize: Int? = nil, onCandidate: ((Int, Double) -> Void)? = nil) throws -> [Double] {
        try scores(candidates, vocabSize: predictor.config.tokenDimensionality, onCandidate: onCandidate) { prefix in
            let result = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences,
                                                 prefix: Prefix(type: .prepend, values: prefix), batchSize: batchSize)
            return Evaluation.meanCumulativeLoss(result.instantLosses)
        }
    }

    /// The best hard prefix for a Bayes predictor (PreBayesPT): the prefix
    /// tokens are observed before each sequence and only the sequence tokens
    /// are scored.
    public static func search(bayes generator: any DataGenerator, sequences: Tensor, length: Int) throws -> Result {
        try search(vocabSize: generator.vocabSize, length: length) { prefix in
            Evaluation.meanCumulativeLoss(bayesWithPrefix(generator, prefix: prefix, sequences: sequences).instantLosses)
        }
    }

    /// The Bayes predictor's log-probs and losses on `sequences` after
    /// observing the (hard) prefix tokens first; prefix positions dropped.
    public static func bayesWithPrefix(_ generator: any DataGenerator, prefix: Tensor,
                                       sequences: Tensor) -> (logProbs: Tensor, instantLosses: Tensor) {
        let (batch, length, vocab) = (sequences.shape[0], sequences.shape[1], sequences.shape[2])
        let k = prefix.shape[0]
        var prefixed = Tensor(shape: [batch, k + length, vocab])
        for b in 0..<batch {
            for t in 0..<k { for v in 0..<vocab { prefixed.storage[(b * (k + length) + t) * vocab + v] = prefix.storage[t * vocab + v] } }
            for t in 0..<length {
                for v in 0..<vocab { prefixed.storage[(b * (k + length) + k + t) * vocab + v] = sequences.storage[(b * length + t) * vocab + v] }
            }
        }
        let solved = generator.solve(sequences: prefixed)
        return (Predictor.slice(solved.logProbs, from: k, count: length), sliceLosses(solved.instantLosses, from: k, count: length))
    }

    static func sliceLosses(_ x: Tensor, from start: Int, count: Int) -> Tensor {
        Predictor.slice(x.reshaped([x.shape[0], x.shape[1], 1]), from: start, count: count).reshaped([x.shape[0], count])
    }
}
