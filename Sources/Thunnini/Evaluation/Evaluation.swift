/// Evaluation of a (tuned) predictor on sequences (the original's `evaluation.py`).
public enum Evaluation {
    /// Per-sequence results of one predictor on one set of sequences.
    public struct Result: Sendable {
        /// B x T x V log-probabilities of the sequence tokens.
        public var logProbabilities: Tensor
        /// B x T instant log losses.
        public var instantLosses: Tensor
        /// Hidden states at the sequence positions, when the torso returns them.
        public var states: [String: Tensor]?
        /// Hidden states at the K positions before the first sequence
        /// prediction (BOS and the first K - 1 prefix positions), when the
        /// torso returns states and there is a prefix.
        public var prefixStates: [String: Tensor]?
    }

    /// Runs the predictor on `sequences` (B x T x V) in chunks of `batchSize`
    /// sequences (`nil` or < 1: all at once), and never more than
    /// `largestChunk` at a time. Every operation of the predictor acts on one
    /// sequence at a time, so chunking changes nothing in the per-sequence
    /// results (asserted bit for bit in the tests); the cap keeps the forward
    /// pass's activations (about 7 x B x T x H doubles per LSTM layer) in
    /// reusable memory instead of fresh pages for every evaluation.
    public static func evaluate(predictor: Predictor, parameters: ParameterTree, sequences: Tensor,
                                prefix: Prefix = .none, batchSize: Int? = nil) throws -> Result {
        try predictor.checkInputs(sequences: sequences, prefix: prefix)
        let total = sequences.shape[0]
        let chunk = chunkSize(batchSize: batchSize, total: total)
        var parts: [Predictor.Output] = []
        var start = 0
        while start < total {
            let count = min(chunk, total - start)
            let part = try predictor.forward(parameters: parameters, sequences: rows(sequences, start, count), prefix: prefix,
                                             forBackward: false)
            parts.append(part)
            start += count
        }
        func joined(_ pick: (Predictor.Output) -> [String: Tensor]?) -> [String: Tensor]? {
            guard let first = parts.first.flatMap(pick) else { return nil }
            var joined: [String: Tensor] = [:]
            for name in first.keys { joined[name] = concatenate(parts.map { pick($0)![name]! }) }
            return joined
        }
        return Result(logProbabilities: concatenate(parts.map(\.logProbabilities)),
                      instantLosses: concatenate(parts.map(\.instantLosses)),
                      states: joined(\.states), prefixStates: joined(\.prefixStates))
    }

    /// The most sequences one forward pass of `evaluate` takes.
    public static let largestChunk = 256

    /// Sequences per forward pass of `evaluate` for `total` sequences and a
    /// requested `batchSize` (`nil` or < 1: all at once), capped at
    /// `largestChunk` (also what the memory estimate assumes).
    public static func chunkSize(batchSize: Int?, total: Int) -> Int {
        min((batchSize ?? 0) >= 1 ? batchSize! : total, largestChunk)
    }

    /// Several prefixes (e.g. the initial prefixes of every repetition) on the
    /// same sequences, one result per prefix in order.
    public static func evaluate(predictor: Predictor, parameters: ParameterTree, sequences: Tensor,
                                prefixes: [Prefix], batchSize: Int? = nil) throws -> [Result] {
        try prefixes.map { try evaluate(predictor: predictor, parameters: parameters, sequences: sequences, prefix: $0, batchSize: batchSize) }
    }

    /// Sequences `start ..< start + count` of a batch-first tensor.
    static func rows(_ x: Tensor, _ start: Int, _ count: Int) -> Tensor {
        let rowSize = x.count / max(x.shape[0], 1)
        var shape = x.shape
        shape[0] = count
        return Tensor(shape: shape, storage: Array(x.storage[(start * rowSize)..<((start + count) * rowSize)]))
    }

    /// Concatenation along the first axis.
    static func concatenate(_ parts: [Tensor]) -> Tensor {
        var shape = parts[0].shape
        shape[0] = parts.reduce(0) { $0 + $1.shape[0] }
        return Tensor(shape: shape, storage: parts.flatMap(\.storage))
    }

    /// Per-sequence cumulative loss (sum over time) of B x T instant losses, averaged over the batch.
    public static func meanCumulativeLoss(_ instantLosses: Tensor) -> Double {
        instantLosses.storage.reduce(0, +) / Double(instantLosses.shape[0])
    }
}
