import Foundation
import Testing
@testable import Thunnini

@Suite struct LoopTests {
    static let coin = DataGeneratorConfig.categorical(CategoricalGeneratorConfig(batchSize: 4, sequenceLength: 6, vocabSize: 3, biases: [0.2, 0.3, 0.5]))

    static func predictor(trainable: Bool = true) throws -> Predictor {
        try Predictor(config: PredictorConfig(tokenDimensionality: 3, embeddingDimensionality: 4),
                      torsoConfig: .lstm(LSTMTorsoConfig(isTrainable: trainable, hiddenSizes: [5])))
    }

    static func tuningConfig(_ method: TuningMethod, steps: Int = 3, initMethod: PrefixInitMethod = .simplex) -> TuningConfig {
        TuningConfig(numTuningSteps: steps, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 4, prefixInitSeed: 6,
                     tuningMethod: method, prefixLength: method.isPrefixMethod ? 2 : nil,
                     prefixInitMethod: method.isPrefixMethod ? initMethod : nil)
    }

    @Test func pretrainingIsDeterministicAndReportsEveryStep() throws {
        let config = TrainingConfig(numTrainingSteps: 5, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 1, predictorInitSeed: 2)
        let first = try Pretraining.train(predictor: Self.predictor(), data: Self.coin, config: config)
        let second = try Pretraining.train(predictor: Self.predictor(), data: Self.coin, config: config)
        #expect(first.losses.count == 5 && first.gradientNorms.count == 5)
        #expect(first.losses == second.losses && first.parameters == second.parameters)
        #expect(first.parameters != (try Self.predictor()).initialParameters(seed: 2))
    }

    @Test func untrainableTorsoSkipsPretraining() throws {
        let config = TrainingConfig(numTrainingSteps: 5, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 1, predictorInitSeed: 2)
        let predictor = try Self.predictor(trainable: false)
        let result = try Pretraining.train(predictor: predictor, data: Self.coin, config: config)
        #expect(result.losses.isEmpty)
        #expect(result.parameters == predictor.initialParameters(seed: 2))
    }

    @Test("tuning runs num_tuning_steps + 1 steps, deterministically", arguments: TuningMethod.allCases.filter { $0 != .loraFinetune })
    func tuningStepsAndDeterminism(method: TuningMethod) throws {
        let predictor = try Self.predictor()
        let parameters = predictor.initialParameters(seed: 0)
        let a = try Tuning.tune(predictor: predictor, parameters: parameters, data: Self.coin, config: Self.tuningConfig(method))
        let b = try Tuning.tune(predictor: predictor, parameters: parameters, data: Self.coin, config: Self.tuningConfig(method))
        #expect(a.losses.count == 4)
        #expect(a.losses == b.losses && a.parameters == b.parameters && a.prefix == b.prefix)
        #expect((a.initialPrefix != nil) == method.isPrefixMethod)
        let other = try Tuning.tune(predictor: predictor, parameters: parameters, data: Self.coin,
                                    config: Self.tuningConfig(method), overrideDataGenSeed: 99)
        #expect(other.losses != a.losses, "another data seed gives other batches")
    }

    /// Each initialisation is its documented function of the key's uniforms
    /// (`TunerObjectiveTests.documentedInitialPrefix`); one-hot rows are one-hot
    /// and, over 50 rows, use every token.
    @Test func prefixInitialisations() {
        let key = RandomKey(seed: 3)
        for method in PrefixInitMethod.allCases {
            #expect(Tuning.initialPrefix(length: 4, width: 3, method: method, key: key)
                    == TunerObjectiveTests.documentedInitialPrefix(length: 4, width: 3, method: method, key: key), "\(method)")
        }
        let oneHot = Tuning.initialPrefix(length: 50, width: 3, method: .oneHot, key: key)
        var tokens = Set<Int>()
        for k in 0..<50 {
            let row = Array(oneHot.storage[(k * 3)..<(k * 3 + 3)])
            #expect(row.filter { $0 == 1 }.count == 1 && row.filter { $0 == 0 }.count == 2)
            tokens.insert(row.firstIndex(of: 1)!)
        }
        #expect(tokens.count == 3, "50 random positions should use every token")
    }

    @Test func batchedEvaluationEqualsUnbatched() throws {
        let predictor = try TorsoCases.predictor("transformer-lora-bias-2-layers")
        let parameters = TorsoCases.noisyParameters(predictor)
        let sequences = TorsoCases.sequences(batch: 7, length: 5)
        let prefix = TorsoCases.prefix(.embedding)
        let whole = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences, prefix: prefix)
        for batchSize in [1, 3, 7, 10] {
            let chunked = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences,
                                                  prefix: prefix, batchSize: batchSize)
            #expect(chunked.instantLosses.storage == whole.instantLosses.storage)
            #expect(chunked.logProbabilities.storage == whole.logProbabilities.storage)
            #expect(chunked.states?.mapValues(\.storage) == whole.states?.mapValues(\.storage))
        }
    }

    @Test func listOfPrefixesOnTheSameSequences() throws {
        let predictor = try TorsoCases.predictor("lstm-2-layers")
        let parameters = TorsoCases.noisyParameters(predictor)
        let sequences = TorsoCases.sequences(batch: 3, length: 4)
        let prefixes = [Prefix.none, TorsoCases.prefix(.prepend), TorsoCases.prefix(.simplex, seed: 2)]
        let results = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences, prefixes: prefixes)
        #expect(results.count == 3)
        for (prefix, result) in zip(prefixes, results) {
            let single = try predictor.forward(parameters: parameters, sequences: sequences, prefix: prefix)
            #expect(result.instantLosses == single.instantLosses)
        }
        #expect(results[0].instantLosses != results[1].instantLosses)
    }

    @Test func hardPrefixCandidatesAndLimit() throws {
        let candidates = try HardPrefixSearch.candidates(vocabSize: 3, length: 2)
        #expect(candidates == [[2, 2], [2, 1], [2, 0], [1, 2], [1, 1], [1, 0], [0, 2], [0, 1], [0, 0]])
        expectThunniniError(["2^17", "limit"]) { _ = try HardPrefixSearch.candidates(vocabSize: 2, length: 17) }
    }

    @Test func bayesWithHardPrefixAddsThePrefixCounts() throws {
        // Laplace's rule after a prefix "1 1": the first prediction is (0+1, 2+1) / (2 + 2).
        let laplace = try makeDataGenerator(.dirichletCategorical(DirichletCategoricalGeneratorConfig(batchSize: 1, sequenceLength: 1, vocabSize: 2, alphas: [1, 1])))
        var sequences = Tensor(shape: [1, 2, 2])
        sequences[0, 0, 0] = 1
        sequences[0, 1, 1] = 1
        let (logProbs, losses) = HardPrefixSearch.bayesWithPrefix(laplace, prefix: HardPrefixSearch.oneHot([1, 1], vocabSize: 2), sequences: sequences)
        #expect(abs(logProbs[0, 0, 0] - log(1.0 / 4)) < 1e-15 && abs(logProbs[0, 0, 1] - log(3.0 / 4)) < 1e-15)
        #expect(abs(losses[0, 1] - -log(3.0 / 5)) < 1e-15)
        // Searching K = 1 on the sequence "0 1": after "1" the losses are -log(1/3) - log(2/4), after "0"
        // -log(2/3) - log(1/4); both are log 6, a tie, which goes to the first candidate, "1".
        let best = try HardPrefixSearch.search(bayes: laplace, sequences: sequences, length: 1)
        #expect(best.candidateLosses.count == 2 && best.candidateLosses.allSatisfy { abs($0 - log(6.0)) < 1e-14 })
        // (The two sums may differ in the last bit; the first candidate wins unless the second is strictly lower.)
        #expect(best.tokens == (best.candidateLosses[1] < best.candidateLosses[0] ? [0] : [1]))
    }
}
