import Foundation
import Testing
@testable import Thunnini

/// The original's findings (Genewein et al. 2025), at a scale that runs in
/// seconds, each on `seedSets.count` independent seed sets (own pretraining,
/// tuning, search and evaluation seeds): an LSTM meta-trained on Random
/// Coins is close to Bayes-optimal there (closer to the exact Bayes regret
/// than to the exact regret of Bayes predictors with the wrong prior); soft
/// prompts adapt it to a single coin better than the best hard prompt; and
/// on a two-coin mixture full weight tuning beats every prefix method.
///
/// Every comparison is paired (the same evaluation sequences for both
/// sides) and must exceed `standardErrors` standard errors of the mean
/// per-sequence difference, so a win by sampling luck fails. Margins are
/// printed (`finding ...` lines).
@Suite(.serialized) struct FindingsTests {
    static let length = 15
    static let seedSets = 0..<5
    /// How many standard errors a paired difference must exceed.
    static let standardErrors = 3.0
    static let evaluationSequences = 1000

    static let randomCoins = DataGeneratorConfig.dirichletCategorical(
        DirichletCategoricalGeneratorConfig(batchSize: 32, sequenceLength: length, vocabSize: 2, alphas: [1, 1]))
    static let coin = DataGeneratorConfig.categorical(
        CategoricalGeneratorConfig(batchSize: 32, sequenceLength: length, vocabSize: 2, biases: [0.2, 0.8]))
    static let twoCoins = DataGeneratorConfig.mixtureOfCategoricals(
        MixtureOfCategoricalsGeneratorConfig(batchSize: 32, sequenceLength: length, vocabSize: 2,
                                             mixingWeights: [0.5, 0.5], biases: [[0.2, 0.8], [0.8, 0.2]]))

    static let predictor = try! Predictor(config: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 8),
                                          torsoConfig: .lstm(LSTMTorsoConfig(hiddenSizes: [12])))

    /// One meta-trained LSTM per seed set, shared by the tests of this suite.
    ///
    /// 1500 steps at lr 0.005: at 800 steps and lr 0.01 two of the five
    /// seed sets were still far from Bayes (regret 1.10 and 1.06 against the
    /// exact 1.022), i.e. the network was not yet meta-trained.
    static let pretrained: [ParameterTree] = try! perSeedSet { seed in
        try Pretraining.train(predictor: predictor, data: randomCoins,
                              config: TrainingConfig(numTrainingSteps: 1500, learningRate: 0.005, maxGradNorm: 1,
                                                     dataGenSeed: 100 + seed, predictorInitSeed: 200 + seed)).parameters
    }

    /// `body(seed)` for every seed set, the seed sets concurrently (each is
    /// deterministic on its own, so the results do not depend on the
    /// scheduling), returned in seed order. Assertions stay on the caller.
    static func perSeedSet<T>(_ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let box = SeedSetResults<T>()
        DispatchQueue.concurrentPerform(iterations: seedSets.count) { index in
            let result = Result { try body(seedSets.lowerBound + index) }
            box.lock.lock()
            box.results[index] = result
            box.lock.unlock()
        }
        return try (0..<seedSets.count).map { try box.results[$0]!.get() }
    }

    /// Mean and standard error of the mean.
    static func meanAndStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (mean, (variance / Double(values.count)).squareRoot())
    }

    /// Per-sequence cumulative losses (sum over time) of B x T instant losses.
    static func perSequence(_ instantLosses: Tensor) -> [Double] {
        let (batch, t) = (instantLosses.shape[0], instantLosses.shape[1])
        return (0..<batch).map { b in (0..<t).reduce(0) { $0 + instantLosses.storage[b * t + $1] } }
    }

    /// Evaluation sequences of `source` for seed set `seed` (and their ground-truth losses).
    static func evaluationData(_ source: DataGeneratorConfig, seed: Int,
                               count: Int = evaluationSequences) throws -> (sequences: Tensor, groundTruth: [Double]) {
        let (sequences, truth) = try makeDataGenerator(source).generate(key: RandomKey(seed: UInt64(300 + seed)),
                                                                        batchSize: count, sequenceLength: length)
        return (sequences, perSequence(instantLogLosses(logits: truth, sequences: sequences)))
    }

    static func networkLosses(_ parameters: ParameterTree, _ sequences: Tensor, prefix: Prefix = .none) throws -> [Double] {
        perSequence(try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences, prefix: prefix).instantLosses)
    }

    static func tune(_ method: TuningMethod, on source: DataGeneratorConfig, seed: Int, steps: Int = 150,
                     learningRate: Double = 0.01) throws -> Tuning.Result {
        try Tuning.tune(predictor: predictor, parameters: pretrained[seed], data: source,
                        config: TuningConfig(numTuningSteps: steps, learningRate: learningRate, maxGradNorm: 1,
                                             dataGenSeed: 400 + seed, prefixInitSeed: 500 + seed, tuningMethod: method,
                                             prefixLength: method.isPrefixMethod ? 4 : nil,
                                             prefixInitMethod: method.isPrefixMethod ? .zeros : nil))
    }

    static func bestHardPrefix(on source: DataGeneratorConfig, seed: Int) throws -> Prefix {
        let sequences = try makeDataGenerator(source).generate(key: RandomKey(seed: UInt64(600 + seed)), batchSize: 512,
                                                               sequenceLength: length).sequences
        let found = try HardPrefixSearch.search(predictor: predictor, parameters: pretrained[seed], sequences: sequences, length: 4)
        return Prefix(type: .prepend, values: found.prefix)
    }

    /// `worse - better` per sequence: mean, standard error and how many
    /// standard errors the mean is above zero.
    static func pairedMargin(better: [Double], worse: [Double]) -> (mean: Double, standardError: Double, ratio: Double) {
        let (mean, se) = meanAndStandardError(zip(worse, better).map { $0 - $1 })
        return (mean, se, mean / se)
    }

    static func format(_ x: Double) -> String { String(format: "%.4f", x) }

    @Test("an LSTM meta-trained on Random Coins is closer to the exact Bayes regret than to wrong-prior Bayes regrets")
    func metaTrainedIsNearBayes() throws {
        let source = try makeDataGenerator(Self.randomCoins)
        func exactRegret(_ alphas: [Double]) throws -> Double {
            try ExactRegret.compute(source: source, predictor: dirichlet(alphas), length: Self.length).cumulativeRegret.last!
        }
        let bayes = try exactRegret([1, 1]), kt = try exactRegret([0.5, 0.5]), dirichlet22 = try exactRegret([2, 2])
        // The wrong priors must be far enough apart from Bayes for the test to mean something.
        #expect(kt - bayes > 0.05 && dirichlet22 - bayes > 0.05)
        for seed in Self.seedSets {
            // 4000 sequences: with 1000 the standard error (up to 0.009) was
            // of the size of the smallest margin.
            let (sequences, groundTruth) = try Self.evaluationData(Self.randomCoins, seed: seed, count: 4000)
            let network = try Self.networkLosses(Self.pretrained[seed], sequences)
            let bayesLosses = Self.perSequence(source.solve(sequences: sequences).instantLosses)
            // E[network regret] = exact Bayes regret + E[network loss - Bayes
            // loss]; the paired difference has a far smaller variance than the
            // network's regret itself (a control variate).
            let (excess, standardError) = Self.meanAndStandardError(zip(network, bayesLosses).map { $0 - $1 })
            let estimate = bayes + excess
            let toBayes = abs(estimate - bayes), toWrong = min(abs(estimate - kt), abs(estimate - dirichlet22))
            let untrained = Self.meanAndStandardError(zip(try Self.networkLosses(Self.predictor.initialParameters(seed: 200 + seed), sequences),
                                                          groundTruth).map { $0 - $1 }).mean
            print("finding near-Bayes seed set \(seed): network regret \(Self.format(estimate)) +- \(Self.format(standardError)); "
                  + "exact Bayes \(Self.format(bayes)), KT \(Self.format(kt)), Dirichlet(2,2) \(Self.format(dirichlet22)); "
                  + "margin (distance to nearest wrong prior - distance to Bayes) \(Self.format(toWrong - toBayes)) "
                  + "= \(Self.format((toWrong - toBayes) / standardError)) SE; untrained \(Self.format(untrained))")
            #expect(toWrong - toBayes > Self.standardErrors * standardError, "seed set \(seed)")
            #expect(untrained > 2 * bayes, "the comparison means something only if an untrained network is far off")
        }
    }

    @Test("soft-prefix tuning to a single coin beats the best hard prefix")
    func softPrefixBeatsHardPrefix() throws {
        let results = try Self.perSeedSet { seed in
            let (sequences, groundTruth) = try Self.evaluationData(Self.coin, seed: seed)
            // 300 steps at lr 0.03: at 150 steps and lr 0.01 the soft prefix
            // was still moving and lost to the best hard prefix on one of five
            // seed sets (by 6 SE), i.e. the comparison was of an untuned prefix.
            let soft = try Self.tune(.prefixSoft, on: Self.coin, seed: seed, steps: 300, learningRate: 0.03)
            let softLosses = try Self.networkLosses(Self.pretrained[seed], sequences, prefix: Prefix(type: .embedding, values: soft.prefix))
            let hardLosses = try Self.networkLosses(Self.pretrained[seed], sequences, prefix: Self.bestHardPrefix(on: Self.coin, seed: seed))
            let truth = groundTruth.reduce(0, +) / Double(groundTruth.count)
            return (softLosses.reduce(0, +) / Double(softLosses.count) - truth, hardLosses.reduce(0, +) / Double(hardLosses.count) - truth,
                    Self.pairedMargin(better: softLosses, worse: hardLosses))
        }
        for (seed, (soft, hard, margin)) in zip(Self.seedSets, results) {
            print("finding soft-vs-hard seed set \(seed): regret soft \(Self.format(soft)), best hard \(Self.format(hard)); "
                  + "hard - soft \(Self.format(margin.mean)) +- \(Self.format(margin.standardError)) = \(Self.format(margin.ratio)) SE")
            #expect(margin.ratio > Self.standardErrors, "seed set \(seed)")
        }
    }

    @Test("on the two-coin mixture, full weight tuning beats every prefix method")
    func weightTuningBeatsPrefixesOnMixture() throws {
        let results = try Self.perSeedSet { seed in
            let (sequences, _) = try Self.evaluationData(Self.twoCoins, seed: seed)
            let full = try Self.networkLosses(Self.tune(.fullParameters, on: Self.twoCoins, seed: seed).parameters, sequences)
            var rivals: [(String, Prefix)] = []
            for method in [TuningMethod.prefixReal, .prefixSimplex, .prefixSoft] {
                rivals.append((method.rawValue, Prefix(type: method.prefixType!, values: try Self.tune(method, on: Self.twoCoins, seed: seed).prefix)))
            }
            rivals.append(("best hard prefix", try Self.bestHardPrefix(on: Self.twoCoins, seed: seed)))
            return try rivals.map { name, prefix in
                (name, Self.pairedMargin(better: full, worse: try Self.networkLosses(Self.pretrained[seed], sequences, prefix: prefix)))
            }
        }
        for (seed, margins) in zip(Self.seedSets, results) {
            var line = "finding weights-vs-prefixes seed set \(seed), (prefix - full) per method:"
            for (name, margin) in margins {
                line += " \(name) \(Self.format(margin.mean)) +- \(Self.format(margin.standardError)) = \(Self.format(margin.ratio)) SE;"
                #expect(margin.ratio > Self.standardErrors, "seed set \(seed): full_parameters vs \(name)")
            }
            print(line)
        }
    }
}

/// Results of concurrent seed-set computations, guarded by a lock.
private final class SeedSetResults<T>: @unchecked Sendable {
    let lock = NSLock()
    var results: [Int: Result<T, Error>] = [:]
}
