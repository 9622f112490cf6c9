import Foundation
import Testing
@testable import Thunnini

/// The original's findings (Genewein et al. 2025), at a scale that runs in
/// seconds: an LSTM meta-trained on Random Coins is close to Bayes-optimal
/// there; soft prompts adapt it to a single coin better than any hard
/// prompt; and only weight tuning can give it a two-coin mixture's prior.
@Suite(.serialized) struct FindingsTests {
    static let length = 15
    static let randomCoins = DataGeneratorConfig.dirichletCategorical(
        DirichletCategoricalGeneratorConfig(batchSize: 32, sequenceLength: length, vocabSize: 2, alphas: [1, 1]))
    static let coin = DataGeneratorConfig.categorical(
        CategoricalGeneratorConfig(batchSize: 32, sequenceLength: length, vocabSize: 2, biases: [0.2, 0.8]))
    static let twoCoins = DataGeneratorConfig.mixtureOfCategoricals(
        MixtureOfCategoricalsGeneratorConfig(batchSize: 32, sequenceLength: length, vocabSize: 2,
                                             mixingWeights: [0.5, 0.5], biases: [[0.2, 0.8], [0.8, 0.2]]))

    static let predictor = try! Predictor(config: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 8),
                                          torsoConfig: .lstm(LSTMTorsoConfig(hiddenSizes: [12])))

    /// The meta-trained LSTM, shared by the tests of this suite.
    static let pretrained: ParameterTree = try! Pretraining.train(
        predictor: predictor, data: randomCoins,
        config: TrainingConfig(numTrainingSteps: 800, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 0, predictorInitSeed: 0)).parameters

    /// Mean cumulative regret after `length` steps on 2000 fixed sequences of `source`.
    static func cumulativeRegret(on source: DataGeneratorConfig, parameters: ParameterTree, prefix: Prefix = .none) throws -> Double {
        let (sequences, groundTruth) = try makeDataGenerator(source).generate(key: RandomKey(seed: 1337), batchSize: 2000, sequenceLength: length)
        let losses = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences, prefix: prefix).instantLosses
        return Regret.cumulative(Regret.instant(losses: losses, groundTruthLosses: instantLogLosses(logits: groundTruth, sequences: sequences))).last!
    }

    static func tune(_ method: TuningMethod, on source: DataGeneratorConfig, steps: Int = 150) throws -> Tuning.Result {
        try Tuning.tune(predictor: predictor, parameters: pretrained, data: source,
                        config: TuningConfig(numTuningSteps: steps, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 1, prefixInitSeed: 2,
                                             tuningMethod: method, prefixLength: method.isPrefixMethod ? 4 : nil,
                                             prefixInitMethod: method.isPrefixMethod ? .zeros : nil))
    }

    static func bestHardPrefix(on source: DataGeneratorConfig) throws -> Prefix {
        let sequences = try makeDataGenerator(source).generate(key: RandomKey(seed: 5), batchSize: 512, sequenceLength: length).sequences
        let found = try HardPrefixSearch.search(predictor: predictor, parameters: pretrained, sequences: sequences, length: 4)
        return Prefix(type: .prepend, values: found.prefix)
    }

    @Test("an LSTM meta-trained on Random Coins is close to the exact Bayes regret there")
    func metaTrainedIsNearBayes() throws {
        let exact = try ExactRegret.compute(source: makeDataGenerator(Self.randomCoins), predictor: makeDataGenerator(Self.randomCoins),
                                            length: Self.length).cumulativeRegret.last!
        let network = try Self.cumulativeRegret(on: Self.randomCoins, parameters: Self.pretrained)
        let untrained = try Self.cumulativeRegret(on: Self.randomCoins, parameters: Self.predictor.initialParameters(seed: 0))
        print("Random Coins, T=\(Self.length): exact Bayes \(exact), meta-trained LSTM \(network), untrained \(untrained)")
        #expect(abs(network - exact) <= 0.15 * exact)
        #expect(untrained > 2 * exact, "the comparison means something only if an untrained network is far off")
    }

    @Test("soft-prefix tuning to a single coin beats the best hard prefix")
    func softPrefixBeatsHardPrefix() throws {
        let soft = try Self.tune(.prefixSoft, on: Self.coin)
        let softRegret = try Self.cumulativeRegret(on: Self.coin, parameters: Self.pretrained, prefix: Prefix(type: .embedding, values: soft.prefix))
        let hardRegret = try Self.cumulativeRegret(on: Self.coin, parameters: Self.pretrained, prefix: Self.bestHardPrefix(on: Self.coin))
        print("coin 0.2/0.8: soft prefix \(softRegret), best hard prefix \(hardRegret)")
        #expect(softRegret < hardRegret)
    }

    @Test("on the two-coin mixture, full weight tuning beats every prefix method")
    func weightTuningBeatsPrefixesOnMixture() throws {
        let full = try Self.tune(.fullParameters, on: Self.twoCoins)
        let fullRegret = try Self.cumulativeRegret(on: Self.twoCoins, parameters: full.parameters)
        var prefixRegrets: [String: Double] = [:]
        for method in [TuningMethod.prefixReal, .prefixSimplex, .prefixSoft] {
            let tuned = try Self.tune(method, on: Self.twoCoins)
            prefixRegrets[method.rawValue] = try Self.cumulativeRegret(on: Self.twoCoins, parameters: Self.pretrained,
                                                                       prefix: Prefix(type: method.prefixType!, values: tuned.prefix))
        }
        prefixRegrets["hard"] = try Self.cumulativeRegret(on: Self.twoCoins, parameters: Self.pretrained, prefix: Self.bestHardPrefix(on: Self.twoCoins))
        print("two coins: full weights \(fullRegret), prefixes \(prefixRegrets)")
        for (method, regret) in prefixRegrets { #expect(fullRegret < regret, "full_parameters vs \(method)") }
    }
}
