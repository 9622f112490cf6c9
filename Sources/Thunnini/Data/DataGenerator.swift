import Foundation

/// A source of one-hot token sequences whose Bayes-optimal predictor is known.
///
/// This is the extension point for new data generators (see
/// Docs/data-generators.md). Every generator here is *exchangeable*: the
/// probability of a sequence depends only on its count vector m (m_v = how
/// often token v occurs), so a generator states its math through two
/// functions of counts, and `solve` and the exact regret
/// (Docs/exact-regret.md) are built on them for every generator alike:
///
/// - `bayesLogPredictive(counts:)`: log P(next token = v | counts), the Bayes
///   predictor that knows the prior but not the latent parameter;
/// - `logMarginalLikelihood(counts:)`: log P(x_1..x_n) of one particular
///   sequence with these counts (not of the count vector itself).
///
/// Counts are `Double` so that, like the original's cumulative sums, `solve`
/// also accepts soft (non one-hot) inputs; integer overloads are provided.
///
/// Sampling is "draw the latent per-token distribution theta from the prior,
/// then tokens i.i.d. from theta" (every exchangeable source has this form),
/// so a generator only says how it draws theta (`sampleTokenDistribution`);
/// `generate` is shared.
public protocol DataGenerator: Sendable {
    /// The validated config this generator was made from.
    var config: DataGeneratorConfig { get }

    /// V, the alphabet size (length of every count vector and prediction).
    var vocabSize: Int { get }

    /// log P(next token = v | counts) for v in 0..<V under the Bayes predictor.
    func bayesLogPredictive(counts: [Double]) -> [Double]

    /// log P(x_1, ..., x_n) of one sequence whose token counts are `counts`
    /// (n = sum of counts); 0 for the empty sequence.
    func logMarginalLikelihood(counts: [Double]) -> Double

    /// E_theta[H(theta)]: the expected entropy (in nats) of the latent
    /// per-token distribution, which is the oracle's expected instant loss
    /// at every step.
    func expectedOracleEntropy() -> Double

    /// Draws the latent per-token distribution theta (length V, sums to 1)
    /// of one sequence from the prior, consuming words of `stream`. The
    /// oracle (ground truth) predicts log(theta) at every step.
    func sampleTokenDistribution(stream: inout RandomStream) -> [Double]
}

extension DataGenerator {
    /// `bayesLogPredictive` for an integer count vector.
    public func bayesLogPredictive(counts: [Int]) -> [Double] {
        bayesLogPredictive(counts: counts.map(Double.init))
    }

    /// `logMarginalLikelihood` for an integer count vector.
    public func logMarginalLikelihood(counts: [Int]) -> Double {
        logMarginalLikelihood(counts: counts.map(Double.init))
    }

    /// `batchSize` one-hot sequences of `sequenceLength` tokens (B x T x V)
    /// and the oracle's log-probabilities log(theta) (B x T x V).
    ///
    /// Sequence b uses its own stream, `RandomStream(key: key.split(into:
    /// batchSize)[b])`: first theta (`sampleTokenDistribution`), then one
    /// `categorical(probabilities: theta)` draw per token. So sequence b is
    /// the same for every batch size larger than b.
    public func generate(key: RandomKey, batchSize: Int, sequenceLength: Int)
        -> (sequences: Tensor, groundTruthLogProbs: Tensor) {
        precondition(batchSize >= 0 && sequenceLength >= 0,
                     "generate needs batchSize and sequenceLength >= 0, got \(batchSize), \(sequenceLength)")
        let v = vocabSize
        let keys = batchSize > 0 ? key.split(into: batchSize) : []
        // Sequences depend only on their own keys, so chunks of them are drawn
        // in parallel (the same values at any thread count); each chunk
        // writes every element of its rows.
        let outputs = Tensor.writingEveryElement(shapes: [[batchSize, sequenceLength, v], [batchSize, sequenceLength, v]]) { pointers in
            let (sequences, groundTruth) = (SharedPointer(pointers[0]), SharedPointer(pointers[1]))
            Parallel.forEachChunk(of: batchSize, minimumPerChunk: 16) { chunk in
                for b in chunk {
                    var stream = RandomStream(key: keys[b])
                    let theta = sampleTokenDistribution(stream: &stream)
                    let logTheta = theta.map { log($0) }
                    for t in 0..<sequenceLength {
                        let row = (b * sequenceLength + t) * v
                        (sequences.base + row).update(repeating: 0, count: v)
                        sequences.base[row + stream.categorical(probabilities: theta)] = 1
                        for token in 0..<v { groundTruth.base[row + token] = logTheta[token] }
                    }
                }
            }
        }
        return (outputs[0], outputs[1])
    }

    /// `generate` with the config's `batch_size` and `sequence_length`.
    public func generate(key: RandomKey) -> (sequences: Tensor, groundTruthLogProbs: Tensor) {
        generate(key: key, batchSize: config.batchSize, sequenceLength: config.sequenceLength)
    }

    /// The Bayes predictor's log-probabilities and instant log losses on
    /// `sequences` (B x T x V): prediction t sees tokens 0..<t, so the first
    /// prediction is the prior predictive. Returns B x T x V and B x T.
    ///
    /// The counts are running sums of the rows of `sequences`, as in the
    /// original, so soft inputs are accepted too. `sequences` must have
    /// rank 3 and last axis V (a programming error otherwise).
    public func solve(sequences: Tensor) -> (logProbs: Tensor, instantLosses: Tensor) {
        precondition(sequences.rank == 3 && sequences.shape[2] == vocabSize,
                     "solve needs B x T x \(vocabSize) sequences, got shape \(sequences.shape)")
        let batchSize = sequences.shape[0], length = sequences.shape[1], v = vocabSize
        var logProbs = Tensor(shape: [batchSize, length, v])
        for b in 0..<batchSize {
            var counts = [Double](repeating: 0, count: v)
            for t in 0..<length {
                let prediction = bayesLogPredictive(counts: counts)
                let row = (b * length + t) * v
                for token in 0..<v {
                    logProbs.storage[row + token] = prediction[token]
                    counts[token] += sequences.storage[row + token]
                }
            }
        }
        return (logProbs, instantLogLosses(logits: logProbs, sequences: sequences))
    }
}

/// Instant log losses `-sum_v onehot[b,t,v] * log_softmax(logits[b,t])[v]`
/// (B x T) of logits (B x T x V, unnormalised or log-probabilities) on
/// one-hot `sequences` of the same shape: the softmax cross-entropy of the
/// original. A token with weight 0 contributes nothing even where its
/// logit is -inf (a zero-probability token that did not occur).
public func instantLogLosses(logits: Tensor, sequences: Tensor) -> Tensor {
    precondition(logits.rank == 3 && logits.shape == sequences.shape,
                 "logits \(logits.shape) and sequences \(sequences.shape) must both be B x T x V")
    return SoftmaxCrossEntropy.forward(logits: logits, labels: sequences).losses
}

/// The generator for a config, after checking it (throws `ThunniniError`
/// naming the offending field).
///
/// `batch_size` and `sequence_length` must be >= 0 (they are what
/// `generate(key:)` uses); with `checkingBatchShape: false` they are not
/// looked at, for callers that ignore them (the exact quantities).
public func makeDataGenerator(_ config: DataGeneratorConfig,
                              checkingBatchShape: Bool = true) throws -> any DataGenerator {
    if checkingBatchShape {
        guard config.batchSize >= 0 else {
            throw ThunniniError.invalidConfig("batch_size", "must be >= 0, got \(config.batchSize)")
        }
        guard config.sequenceLength >= 0 else {
            throw ThunniniError.invalidConfig("sequence_length", "must be >= 0, got \(config.sequenceLength)")
        }
    }
    switch config {
    case .categorical(let c): return try CategoricalGenerator(c)
    case .mixtureOfCategoricals(let c): return try MixtureOfCategoricalsGenerator(c)
    case .dirichletCategorical(let c): return try DirichletCategoricalGenerator(c)
    }
}

/// Checks `vocab_size` >= 2 (every generator's init calls this first).
func checkVocabSize(_ vocabSize: Int) throws {
    guard vocabSize >= 2 else {
        throw ThunniniError.invalidConfig("vocab_size", "must be >= 2, got \(vocabSize)")
    }
}

/// How far from 1 a probability vector may sum (the original's `allclose`
/// check uses a relative tolerance of 1e-6).
let probabilitySumTolerance = 1e-6

/// Checks that `values` is a probability vector of length `count`:
/// finite, non-negative entries summing to 1 within `probabilitySumTolerance`.
func checkProbabilityVector(_ values: [Double], count: Int, field: String) throws {
    guard values.count == count else {
        throw ThunniniError.invalidConfig(field, "needs \(count) entries, got \(values.count)")
    }
    for (index, value) in values.enumerated() where !(value.isFinite && value >= 0) {
        throw ThunniniError.invalidConfig(field, "entry \(index) is \(value); probabilities must be finite and >= 0")
    }
    let sum = values.reduce(0, +)
    guard abs(sum - 1) <= probabilitySumTolerance else {
        throw ThunniniError.invalidConfig(field, "must sum to 1, sums to \(sum)")
    }
}

/// -sum_v p_v log p_v in nats, with 0 log 0 = 0.
func entropy(_ probabilities: [Double]) -> Double {
    var value = 0.0
    for p in probabilities where p > 0 { value -= p * log(p) }
    return value
}
