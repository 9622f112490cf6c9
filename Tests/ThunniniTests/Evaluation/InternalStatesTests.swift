import Foundation
import Testing
@testable import Thunnini

/// What the dynamics figure and the example-trajectory figure read from a run.
@Suite struct InternalStatesTests {
    /// A trajectory is the prefix positions' states followed by the sequence
    /// positions' states, layers concatenated in order. Catches dropping the
    /// prefix part (what `Evaluation` did before) and a wrong layer order.
    @Test(arguments: [TorsoConfig.lstm(LSTMTorsoConfig(hiddenSizes: [3, 2])),
                      .transformer(TransformerTorsoConfig(hiddenSizes: [4, 4], numAttentionHeads: 2))])
    func trajectoriesAreThePrefixStatesThenTheSequenceStates(torso: TorsoConfig) throws {
        let predictor = try Predictor(config: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 4),
                                      torsoConfig: InternalStates.returningStates(torso))
        let parameters = predictor.initialParameters(seed: 3)
        let generator = try makeDataGenerator(.categorical(.init(batchSize: 2, sequenceLength: 5, vocabSize: 2, biases: [0.3, 0.7])))
        let sequences = generator.generate(key: RandomKey(seed: 1)).sequences
        let prefix = Prefix(type: .simplex, values: Tensor(shape: [3, 2], storage: [0.1, 0.9, 0.5, -0.2, 1, 0]))
        let states = try InternalStates.trajectories(predictor: predictor, parameters: parameters, sequences: sequences, prefix: prefix)
        let result = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences, prefix: prefix)
        let names = InternalStates.stateNames(of: torso)
        let widths = names.map { result.states![$0]!.shape[2] }
        let width = widths.reduce(0, +)
        #expect(states.shape == [2, 3 + 5, width])
        for b in 0..<2 {
            for t in 0..<8 {
                var offset = 0
                for (name, w) in zip(names, widths) {
                    let expected = t < 3 ? result.prefixStates![name]! : result.states![name]!
                    let row = t < 3 ? b * 3 + t : b * 5 + t - 3
                    for i in 0..<w {
                        #expect(states.storage[(b * 8 + t) * width + offset + i] == expected.storage[row * w + i])
                    }
                    offset += w
                }
            }
        }
        // Without prefix: T positions, the first one the BOS position.
        let plain = try InternalStates.trajectories(predictor: predictor, parameters: parameters, sequences: sequences)
        let plainResult = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences)
        #expect(plain.shape == [2, 5, width])
        for b in 0..<2 {
            for t in 0..<5 {
                var offset = 0
                for (name, w) in zip(names, widths) {
                    for i in 0..<w {
                        #expect(plain.storage[(b * 5 + t) * width + offset + i] == plainResult.states![name]!.storage[(b * 5 + t) * w + i])
                    }
                    offset += w
                }
            }
        }
    }

    /// The runner keeps the first sequences' log-probabilities per method and
    /// repetition, the regret at N_tune / N_train / N_eval, and the dynamics.
    @Test func runnerKeepsExamplesMarksAndDynamics() throws {
        var spec = smallSpec()
        spec.evalDataConfigs = spec.evalDataConfigs.map { named in
            var named = named
            if case .mixtureOfCategoricals(var c) = named.config { c.batchSize = 10; c.sequenceLength = 7; named.config = .mixtureOfCategoricals(c) }
            if case .dirichletCategorical(var c) = named.config { c.batchSize = 10; c.sequenceLength = 7; named.config = .dirichletCategorical(c) }
            return named
        }
        let results = try ExperimentRunner(spec: spec, reportsProgress: false).run()
        let examples = try #require(results.exampleLogProbs["Mixture"]?["RealPT"])
        #expect(examples.count == 2 && examples[0].shape == [ExperimentResults.exampleSequenceCount, 7, 2])
        for summary in results.summaries() {
            // N_tune = N_train = 6 (both sources of smallSpec), N_eval = 7.
            #expect(summary.cumulativeRegretAtMarks.map(\.label) == ["N_tune", "N_train", "N_eval"])
            #expect(summary.cumulativeRegretAtMarks.map(\.n) == [6, 6, 7])
            // Their values are recomputed from the curves in ResultsFolderOracleTests.
        }
        let dynamics = try #require(results.dynamics)
        #expect(dynamics.fitProjection.shape == [ExperimentResults.Dynamics.fitSequences, ExperimentResults.Dynamics.fitLength, 2])
        let methods = dynamics.trajectories.filter { $0.source == "Mixture" }.map(\.method)
        #expect(methods == ["NoTuning", "RandomPF", "HardPT", "RealPT", "SoftPT"])
        let soft = try #require(dynamics.trajectories.first { $0.method == "SoftPT" })
        #expect(soft.prefixLength == 2 && soft.projection.shape == [8, 2 + 7, 2])
    }
}
