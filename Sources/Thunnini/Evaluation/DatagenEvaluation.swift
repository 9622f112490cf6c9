/// Evaluation sequences drawn the way the original's
/// `evaluate_predictor_from_datagen` draws them.
extension Evaluation {
    /// The batch keys of `evaluate_predictor_from_datagen(datagen_seed: seed,
    /// datagen_num_batches: numBatches)`: `(now, next) = split(RandomKey(seed))`,
    /// batch 0 uses `now`; each further batch splits `next` again the same way.
    public static func datagenBatchKeys(seed: UInt64, numBatches: Int) -> [RandomKey] {
        precondition(numBatches >= 1, "datagen_num_batches must be >= 1, got \(numBatches)")
        var (now, next) = RandomKey(seed: seed).split()
        var keys = [now]
        for _ in 1..<numBatches {
            (now, next) = next.split()
            keys.append(now)
        }
        return keys
    }

    /// `numBatches` batches of the generator's `batch_size` sequences, one
    /// per key of `datagenBatchKeys`, concatenated along the batch axis:
    /// sequences and ground-truth log-probabilities (B * numBatches x T x V).
    public static func generateFromDatagen(_ generator: any DataGenerator, seed: UInt64,
                                           numBatches: Int) -> (sequences: Tensor, groundTruthLogProbs: Tensor) {
        let batches = datagenBatchKeys(seed: seed, numBatches: numBatches).map { generator.generate(key: $0) }
        return (concatenate(batches.map(\.sequences)), concatenate(batches.map(\.groundTruthLogProbs)))
    }
}
