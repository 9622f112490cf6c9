import Foundation
@testable import Thunnini
import Testing

@Suite("Data generation")
struct GenerateTests {
    /// One-hot samples, ground truth log(theta) constant along each sequence
    /// and a probability vector, the config's batch shape, and determinism.
    @Test(arguments: allGeneratorCases)
    func generateShapesOneHotAndGroundTruth(_ generatorCase: GeneratorCase) throws {
        let generator = try generatorCase.generator(vocabSize: 3)
        let key = RandomKey(seed: 7)
        let (sequences, groundTruth) = generator.generate(key: key)
        #expect(sequences.shape == [4, 6, 3])
        #expect(groundTruth.shape == [4, 6, 3])
        for b in 0..<4 {
            var mass = 0.0
            for v in 0..<3 { mass += exp(groundTruth[b, 0, v]) }
            #expect(abs(mass - 1) <= 1e-12)
            for t in 0..<6 {
                var ones = 0
                for v in 0..<3 {
                    #expect(sequences[b, t, v] == 0 || sequences[b, t, v] == 1)
                    if sequences[b, t, v] == 1 { ones += 1 }
                    #expect(groundTruth[b, t, v] == groundTruth[b, 0, v])
                }
                #expect(ones == 1)
            }
        }
        let again = generator.generate(key: key)
        #expect(again.sequences == sequences && again.groundTruthLogProbs == groundTruth)
        // Sequence b depends only on its own key: a larger batch starts the same.
        let larger = generator.generate(key: key, batchSize: 9, sequenceLength: 6)
        #expect(Array(larger.sequences.storage.prefix(sequences.count)) == sequences.storage)
        #expect(generator.generate(key: RandomKey(seed: 8)).sequences != sequences)
        // Chunks of sequences are drawn in parallel: 1, 2 and 3 threads (100
        // sequences: several chunks, ragged ones at 3 threads) give the same
        // bits. Fails if a chunk used another chunk's key or stream, or left
        // a row of its output unwritten.
        let byThreads = [1, 2, 3].map { threads in
            Parallel.$threadCountOverride.withValue(threads) {
                generator.generate(key: key, batchSize: 100, sequenceLength: 5)
            }
        }
        for other in byThreads.dropFirst() {
            #expect(other.sequences.storage.map(\.bitPattern) == byThreads[0].sequences.storage.map(\.bitPattern))
            #expect(other.groundTruthLogProbs.storage.map(\.bitPattern) == byThreads[0].groundTruthLogProbs.storage.map(\.bitPattern))
        }
    }

    /// Monte Carlo: for every (source, predictor) pair, the mean over sampled
    /// sequences of the cumulative regret (predictor loss from `solve` minus
    /// the oracle loss of `generate`'s ground truth) agrees with the exact
    /// expected cumulative regret at every step within 4 standard errors.
    @Test(arguments: allGeneratorPairs)
    func exactRegretAgreesWithMonteCarlo(_ sourceCase: GeneratorCase, _ predictorCase: GeneratorCase) throws {
        let vocabSize = 3, batchSize = 4000, length = 20
        let source = try sourceCase.generator(vocabSize: vocabSize)
        let predictor = try predictorCase.generator(vocabSize: vocabSize)
        let exact = try ExactRegret.compute(source: source, predictor: predictor, length: length)

        // A fixed key per source: deterministic, and independent across sources.
        let sourceIndex = allGeneratorCases.firstIndex { $0.name == sourceCase.name }!
        let key = RandomKey(seed: 20_240_611).fold(in: UInt64(sourceIndex))
        let (sequences, groundTruth) = source.generate(key: key, batchSize: batchSize, sequenceLength: length)
        let oracleLosses = instantLogLosses(logits: groundTruth, sequences: sequences)
        let predictorLosses = predictor.solve(sequences: sequences).instantLosses

        var running = [Double](repeating: 0, count: batchSize)
        for n in 0..<length {
            var sum = 0.0, sumOfSquares = 0.0
            for b in 0..<batchSize {
                running[b] += predictorLosses[b, n] - oracleLosses[b, n]
                sum += running[b]
                sumOfSquares += running[b] * running[b]
            }
            let mean = sum / Double(batchSize)
            let variance = max(0, (sumOfSquares - Double(batchSize) * mean * mean) / Double(batchSize - 1))
            let standardError = sqrt(variance / Double(batchSize))
            // A predictor equal to the source's fixed oracle has zero variance;
            // then only float rounding separates the two.
            let rounding = 1e-12
            #expect(abs(mean - exact.cumulativeRegret[n]) <= 4 * standardError + rounding,
                    "step \(n + 1): Monte Carlo \(mean) ± \(standardError) vs exact \(exact.cumulativeRegret[n])")
        }
    }
}
