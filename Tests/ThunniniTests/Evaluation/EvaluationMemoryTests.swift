import Foundation
import Synchronization
import Testing
@testable import Thunnini

/// How `Evaluation.evaluate` bounds its memory at long sequences, and that
/// the memory estimate states that bound.
@Suite("Evaluation: chunks sized to the memory they hold")
struct EvaluationMemoryTests {
    /// The notebook's transformer (E = 128, one layer, widening 4, 4 heads)
    /// over its evaluation sequences (BOS + 200): 2572 doubles per position
    /// by hand (2V + 2E + 4V for the embedding and the output, 10E + 2 x 512
    /// for the layer), 8 x 201 x 2572 = 4,135,776 bytes per sequence, so
    /// 16 MiB per thread holds 4 sequences at one thread and 8 at two. An
    /// LSTM keeps the cap of 256 (its products take the sequences as rows).
    /// Fails if the chunk ignored the sequence length (256 at any length:
    /// the 1 GB passes that paged), the thread count, or the torso.
    @Test func chunkSizesAtTheNotebooksScale() throws {
        let spec = try ExperimentSpec.load(from: exampleURL("notebook-default.json"))
        let (predictor, torso) = (spec.predictorConfig, spec.torsoConfig)
        #expect(MemoryEstimate.forwardActivationsPerToken(predictor, torso) == 2572)
        for (threads, expected) in [(1, 4), (2, 8)] {
            let chunk = Parallel.$threadCountOverride.withValue(threads) {
                Evaluation.chunkSize(batchSize: nil, total: 2048, predictor: predictor, torso: torso, inputLength: 201)
            }
            #expect(chunk == expected, "\(threads) threads")
        }
        // A requested batch below the bound, and a total below it, are kept.
        #expect(Evaluation.chunkSize(batchSize: 3, total: 2048, predictor: predictor, torso: torso, inputLength: 201) <= 3)
        #expect(Evaluation.chunkSize(batchSize: nil, total: 2, predictor: predictor, torso: torso, inputLength: 201) == 2)
        // Sequences too long for one per 16 MiB still go one at a time.
        #expect(Evaluation.chunkSize(batchSize: nil, total: 10, predictor: predictor, torso: torso, inputLength: 100_000) == 1)
        let lstm = TorsoConfig.lstm(LSTMTorsoConfig(isTrainable: true, hiddenSizes: [128]))
        #expect(Evaluation.chunkSize(batchSize: nil, total: 2048, predictor: predictor, torso: lstm, inputLength: 201) == 256)
    }

    /// The estimate of the notebook experiment states each evaluation
    /// source's pass at its chunk: positions BOS + the longest prefix (6) +
    /// 200 = 207, so at two threads floor(2 x 16 MiB / (8 x 207 x 2572)) = 7
    /// sequences of 207 x 2572 doubles, their two copies of 200 x 2 tokens,
    /// and two 207 x 207 heads of probabilities (about 30 MB), not the 2048
    /// sequences' [B, H, L, L] probabilities (2.6 GB). Fails if the estimate
    /// still counted the probabilities per position or a chunk of 256.
    @Test func theEstimateStatesTheEvaluationPeak() throws {
        let spec = try ExperimentSpec.load(from: exampleURL("notebook-default.json"))
        let estimate = Parallel.$threadCountOverride.withValue(2) { spec.memoryEstimate() }
        let evaluation = estimate.phases.filter { $0.label.hasPrefix("the evaluation batch (eval_data_configs") }
        #expect(evaluation.count == 3)
        let activations: Double = 7 * 207 * 2572
        let sequenceCopies: Double = 2 * 7 * 200 * 2
        let probabilityHeads: Double = 2 * 207 * 207
        let bytesPerPass = 8 * (activations + sequenceCopies + probabilityHeads)
        for part in evaluation {
            #expect(abs(part.bytes - bytesPerPass) < 1, "\(part.label): \(part.bytes)")
        }
    }

    /// At the notebook's width and a long sequence, a chunked evaluation
    /// (one sequence per pass, as a small thread budget gives) equals the
    /// whole batch in one pass bit for bit, at 1, 2 and 3 threads (at 2 and
    /// 3, chunks of 2 and of all 5 run as one-thread passes side by side,
    /// `passesPerThread`). Fails if a chunk's pass read another chunk's rows
    /// or a reused buffer's stale values, or if the side-by-side passes put
    /// their parts back out of order.
    @Test func chunkedEqualsWholeAtTheNotebooksWidth() throws {
        let spec = try ExperimentSpec.load(from: exampleURL("notebook-default.json"))
        let predictor = try Predictor(config: spec.predictorConfig, torsoConfig: spec.torsoConfig)
        let parameters = predictor.initialParameters(seed: 3)
        let data = DataGeneratorConfig.categorical(.init(batchSize: 5, sequenceLength: 60, vocabSize: 2, biases: [0.3, 0.7]))
        let sequences = try makeDataGenerator(data).generate(key: RandomKey(seed: 4)).sequences
        let whole = try KernelMode.$useReferenceKernels.withValue(true) {
            try predictor.forward(parameters: parameters, sequences: sequences)
        }
        for threads in [1, 2, 3] {
            for batchSize in [1, 2, nil] {
                let chunked = try Parallel.$threadCountOverride.withValue(threads) {
                    try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences, batchSize: batchSize)
                }
                #expect(chunked.logProbabilities.storage.map(\.bitPattern) == whole.logProbabilities.storage.map(\.bitPattern),
                        "\(threads) threads, batch \(String(describing: batchSize))")
            }
        }
    }

    /// `passesPerThread` runs every chunk once, returns the parts in
    /// sequence order whichever thread ran them, and rethrows the error of
    /// the first failing chunk by chunk order. Fails if a chunk ran twice or
    /// not at all, if the parts came back in the order the passes finished,
    /// or if a later chunk's error won.
    @Test func passesPerThreadKeepOrderAndTheFirstError() throws {
        struct Failed: Error, Equatable { var start: Int }
        func part(_ start: Int, _ count: Int) -> Evaluation.Result {
            let values = Tensor(shape: [count], storage: (start..<(start + count)).map(Double.init))
            return Evaluation.Result(logProbabilities: values, instantLosses: values, states: nil, prefixStates: nil)
        }
        for threads in [2, 3] {
            try Parallel.$threadCountOverride.withValue(threads) {
                let starts = Mutex<[Int]>([])
                let parts = try Evaluation.passesPerThread(total: 23, chunk: 4, threads: threads) { start, count in
                    starts.withLock { $0.append(start) }
                    // Early chunks finish last, so completion order is not chunk order.
                    usleep(UInt32(max(0, 20 - start) * 200))
                    return part(start, count)
                }
                #expect(parts.flatMap(\.logProbabilities.storage) == (0..<23).map(Double.init), "\(threads) threads")
                #expect(starts.withLock { $0.sorted() } == Array(stride(from: 0, to: 23, by: 4)))
                #expect(throws: Failed(start: 4)) {
                    try Evaluation.passesPerThread(total: 23, chunk: 4, threads: threads) { start, count in
                        if start == 4 || start == 16 { throw Failed(start: start) }
                        return part(start, count)
                    }
                }
            }
        }
    }
}
