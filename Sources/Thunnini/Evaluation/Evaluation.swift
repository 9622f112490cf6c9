import Synchronization

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
    /// `chunkSize` allows. Every operation of the predictor acts on one
    /// sequence at a time, so chunking changes nothing in the per-sequence
    /// results (asserted bit for bit in the tests); the cap keeps each
    /// forward pass's activations in memory that the allocator reuses from
    /// chunk to chunk instead of fresh pages (page faults) for every pass.
    /// On several threads a transformer's or linear torso's chunk is split
    /// into one share per thread, and the shares run as passes side by
    /// side, one per thread (`passesPerThread`), when there are at least as
    /// many as threads.
    public static func evaluate(predictor: Predictor, parameters: ParameterTree, sequences: Tensor,
                                prefix: Prefix = .none, batchSize: Int? = nil) throws -> Result {
        try predictor.checkInputs(sequences: sequences, prefix: prefix)
        let (total, length) = (sequences.shape[0], sequences.shape[1])
        let inputLength = 1 + prefix.length + length
        // Only what the result holds is kept from each chunk's pass (not its
        // logits, inputs or torso input).
        func pass(_ start: Int, _ count: Int) throws -> Result {
            let output = try predictor.forward(parameters: parameters, sequences: rows(sequences, start, count), prefix: prefix,
                                               forBackward: false)
            return Result(logProbabilities: output.logProbabilities, instantLosses: output.instantLosses,
                          states: output.states, prefixStates: output.prefixStates)
        }
        let threads = Parallel.threadCount
        let chunk = chunkSize(batchSize: batchSize, total: total, predictor: predictor.config, torso: predictor.torsoConfig,
                              inputLength: inputLength)
        // On several threads, chunks of a thread's share run side by side:
        // together never more sequences at once than one chunk.
        let share = chunk / threads
        let parts: [Result]
        if threads > 1, runsChunksPerThread(predictor.torsoConfig), share >= 1, (total + share - 1) / share >= threads {
            parts = try passesPerThread(total: total, chunk: share, threads: threads, pass)
        } else {
            parts = try stride(from: 0, to: total, by: chunk).map { try pass($0, min(chunk, total - $0)) }
        }
        func joined(_ parts: [[String: Tensor]]) -> [String: Tensor]? {
            guard let first = parts.first else { return nil }
            var joined: [String: Tensor] = [:]
            for name in first.keys { joined[name] = concatenate(parts.map { $0[name]! }) }
            return joined
        }
        return Result(logProbabilities: concatenate(parts.map(\.logProbabilities)),
                      instantLosses: concatenate(parts.map(\.instantLosses)),
                      states: joined(parts.compactMap(\.states)), prefixStates: joined(parts.compactMap(\.prefixStates)))
    }

    /// Whether `evaluate` may run whole chunks on separate threads (each
    /// pass on one thread) instead of each pass on every thread: for torsos
    /// whose chunks `chunkSize` bounds by memory per thread (a transformer,
    /// a linear torso). An LSTM's products take a chunk's sequences as rows,
    /// so it keeps few large chunks, each on every thread.
    static func runsChunksPerThread(_ torso: TorsoConfig) -> Bool {
        if case .lstm = torso { return false }
        return true
    }

    /// The chunks of `chunk` sequences (the last one shorter), each a pass on
    /// one thread, `threads` passes at a time: each thread takes the next
    /// chunk not yet taken until none is left (so a slower core takes
    /// fewer), and the parts come back in sequence order. The first error
    /// thrown (by chunk order) is rethrown after every pass has ended. A
    /// pass does not depend on the thread that runs it (every kernel gives
    /// the same bits at any thread count), so neither does the result.
    static func passesPerThread(total: Int, chunk: Int, threads: Int,
                                _ pass: (_ start: Int, _ count: Int) throws -> Result) throws -> [Result] {
        let chunkCount = (total + chunk - 1) / chunk
        let slots = UnsafeMutablePointer<Swift.Result<Result, Error>?>.allocate(capacity: chunkCount)
        slots.initialize(repeating: nil, count: chunkCount)
        defer {
            slots.deinitialize(count: chunkCount)
            slots.deallocate()
        }
        let shared = SharedSlots(base: slots)
        let next = Atomic<Int>(0)
        Parallel.forEachChunk(of: threads) { _ in
            Parallel.$threadCountOverride.withValue(1) {
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    guard index < chunkCount else { return }
                    let start = index * chunk
                    shared.base[index] = Swift.Result { try pass(start, min(chunk, total - start)) }
                }
            }
        }
        return try (0..<chunkCount).map { try slots[$0]!.get() }
    }

    /// The result slots of `passesPerThread`, written by one thread each.
    struct SharedSlots: @unchecked Sendable {
        let base: UnsafeMutablePointer<Swift.Result<Result, Error>?>
    }

    /// The most sequences one forward pass of `evaluate` takes.
    public static let largestChunk = 256

    /// Bytes of activations one forward pass of `evaluate` may hold per
    /// thread, for torsos whose products take every position of the chunk
    /// as rows (a transformer, a linear torso): 16 MiB, a few hundred rows
    /// or more for every product at the notebook's widths, small enough that
    /// each tensor stays below the size the allocator keeps on free
    /// (`Allocator.keepFreedBlocks`), so chunk after chunk reuses the same
    /// memory. (Measured at the notebook's evaluation, 64 x 200: 4 to 16 MiB
    /// per thread equally fast, 64 MiB 6% slower, 256 MiB 30% slower with
    /// page faults.)
    public static let chunkBytesPerThread = 16.0 * 1024 * 1024

    /// Sequences per forward pass of `evaluate` for `total` sequences of
    /// `inputLength` positions (BOS, prefix and sequence) and a requested
    /// `batchSize` (`nil` or < 1: all at once): at most `largestChunk`, and
    /// except for an LSTM (whose products at each time step take the chunk's
    /// sequences as rows, so they want many) at most as many as keep the
    /// pass's activations (`MemoryEstimate.forwardActivationsPerToken`)
    /// within `chunkBytesPerThread` per thread, and at least one. The memory
    /// estimate assumes the same (`evaluate` may run the chunk as one pass
    /// per thread on a share each, never more sequences at once). Chunking
    /// never changes a result, so neither does the thread count through it.
    public static func chunkSize(batchSize: Int?, total: Int, predictor: PredictorConfig, torso: TorsoConfig,
                                 inputLength: Int) -> Int {
        let requested = (batchSize ?? 0) >= 1 ? batchSize! : total
        var limit = largestChunk
        if case .lstm = torso {} else {
            let bytesPerSequence = MemoryEstimate.word * Double(max(1, inputLength))
                * MemoryEstimate.forwardActivationsPerToken(predictor, torso)
            let bytes = chunkBytesPerThread * Double(Parallel.threadCount)
            limit = Int(max(1, min(Double(largestChunk), (bytes / bytesPerSequence).rounded(.down))))
        }
        return max(1, min(requested, limit))
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
