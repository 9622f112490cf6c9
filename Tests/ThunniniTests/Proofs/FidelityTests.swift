import Foundation
@testable import Thunnini
import Testing

/// Fixes found by comparing with the original's code, each pinned by a test
/// that fails for the old behaviour.
@Suite struct FidelityTests {
    /// Every key a pretraining run with `predictor_init_seed ==
    /// data_gen_seed` consumes is distinct: the initialisation's three keys,
    /// the data chain root and the first steps' batch keys. (Before the fix
    /// the embedding kernel's key, `RandomKey(s).split(into: 3)[0]`, was the
    /// data chain root `RandomKey(s).split().0`.)
    @Test func initialisationAndDataKeysNeverCoincide() {
        for seed in [0, 1, 42, 1337] {
            let root = RandomKey(seed: UInt64(seed))
            let dataRoot = root.split().0
            let initialisation = Predictor.initialisationKey(seed: seed)
            #expect(initialisation == root.split().1)
            var used = [dataRoot, initialisation] + initialisation.split(into: 3)
            var key = dataRoot
            for _ in 0..<5 {
                let (next, batch) = key.split()
                used += [next, batch]
                key = next
            }
            #expect(Set(used.map { [$0.word0, $0.word1] }).count == used.count, "seed \(seed): two consumers share a key")
        }
    }

    /// `Pretraining.train` itself draws from the keys of Docs/random.md,
    /// section 6: its parameters before the first update are the
    /// initialisation of `K(predictor_init_seed).split().1` (embedding,
    /// torso, unembedding from its three children), step 1's batch is drawn
    /// from `chain.split().1` with `chain = K(data_gen_seed).split().0`, and
    /// step 2's from the second half of the split of the first half. The
    /// loss a step reports is the forward loss of the parameters before its
    /// update on its batch, so comparing it with the loss recomputed here
    /// from those keys fails when pretraining takes the data root from the
    /// other half of the split (then, with equal seeds, the data chain is the
    /// initialisation's key), swaps the chain's halves, draws the batch from
    /// the seed's key itself, or initialises from another key. Equal and
    /// different seeds, an LSTM and a Transformer.
    @Test(arguments: [(3, 3), (0, 0), (7, 2)])
    func pretrainingDrawsFromTheDocumentedKeys(dataSeed: Int, initSeed: Int) throws {
        let data = DataGeneratorConfig.dirichletCategorical(.init(batchSize: 3, sequenceLength: 5, vocabSize: 2, alphas: [1, 1]))
        let generator = try makeDataGenerator(data)
        let torsos: [TorsoConfig] = [.lstm(LSTMTorsoConfig(hiddenSizes: [3])),
                                     .transformer(TransformerTorsoConfig(hiddenSizes: [4], numAttentionHeads: 2))]
        for torsoConfig in torsos {
            let predictor = try Predictor(config: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 4),
                                          torsoConfig: torsoConfig)
            // The initialisation from the documented keys, drawn here layer by layer.
            let initKeys = RandomKey(seed: UInt64(initSeed)).split().1.split(into: 3)
            var initial = ParameterTree(predictor.torso.initialParameters(inputSize: 4, key: initKeys[1]))
            initial["params/embedding/kernel"] = Initializers.lecunNormal(shape: [2, 4], key: initKeys[0])
            initial["params/embedding/bias"] = Tensor(shape: [4])
            initial["params/unembedding/kernel"] = Initializers.lecunNormal(
                shape: [predictor.torso.outputSize(inputSize: 4), 2], key: initKeys[2])
            initial["params/unembedding/bias"] = Tensor(shape: [2])
            #expect(predictor.initialParameters(seed: initSeed) == initial)

            let chain = RandomKey(seed: UInt64(dataSeed)).split().0
            let firstBatch = generator.generate(key: chain.split().1).sequences
            let secondBatch = generator.generate(key: chain.split().0.split().1).sequences
            func config(_ steps: Int) -> TrainingConfig {
                TrainingConfig(numTrainingSteps: steps, learningRate: 0.05, maxGradNorm: 1, dataGenSeed: dataSeed, predictorInitSeed: initSeed)
            }
            let oneStep = try Pretraining.train(predictor: predictor, data: data, config: config(1))
            let twoSteps = try Pretraining.train(predictor: predictor, data: data, config: config(2))
            #expect(twoSteps.losses[0] == (try predictor.forward(parameters: initial, sequences: firstBatch).loss))
            #expect(twoSteps.losses[1] == (try predictor.forward(parameters: oneStep.parameters, sequences: secondBatch).loss))
            // The batches differ, so the comparison can tell them apart.
            #expect(firstBatch != secondBatch)
            #expect(twoSteps.losses[0] != (try predictor.forward(parameters: initial, sequences: secondBatch).loss))
        }
    }

    /// The parameters are drawn from the documented keys: the embedding
    /// kernel is lecun normal from `initialisationKey(seed).split(into: 3)[0]`.
    @Test func embeddingKernelUsesTheFirstInitialisationKey() throws {
        let predictor = try Predictor(config: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 4),
                                      torsoConfig: .lstm(LSTMTorsoConfig(hiddenSizes: [3])))
        let parameters = predictor.initialParameters(seed: 7)
        let expected = Initializers.lecunNormal(shape: [2, 4], key: Predictor.initialisationKey(seed: 7).split(into: 3)[0])
        #expect(parameters["params/embedding/kernel"] == expected)
        let old = Initializers.lecunNormal(shape: [2, 4], key: RandomKey(seed: 7).split(into: 3)[0])
        #expect(parameters["params/embedding/kernel"] != old)
    }

    /// `evaluate --seed s --num-batches n` draws the batches of the original's
    /// `evaluate_predictor_from_datagen`: batch 0 from the first half of
    /// split(key(s)), batch i + 1 from the first half of the split of the
    /// second half that produced batch i.
    @Test func datagenBatchesFollowTheOriginalsKeyChain() throws {
        let generator = try makeDataGenerator(.dirichletCategorical(.init(batchSize: 3, sequenceLength: 4, vocabSize: 2, alphas: [1, 1])))
        let keys = Evaluation.datagenBatchKeys(seed: 1337, numBatches: 3)
        let (now0, next0) = RandomKey(seed: 1337).split()
        let (now1, next1) = next0.split()
        let (now2, _) = next1.split()
        #expect(keys == [now0, now1, now2])
        let drawn = Evaluation.generateFromDatagen(generator, seed: 1337, numBatches: 3)
        #expect(drawn.sequences.shape == [9, 4, 2])
        for (i, key) in [now0, now1, now2].enumerated() {
            let batch = generator.generate(key: key)
            #expect(Array(drawn.sequences.storage[(i * 24)..<((i + 1) * 24)]) == batch.sequences.storage)
            #expect(Array(drawn.groundTruthLogProbs.storage[(i * 24)..<((i + 1) * 24)]) == batch.groundTruthLogProbs.storage)
        }
        // Not the key itself (the old behaviour).
        #expect(drawn.sequences.storage[0..<24] != generator.generate(key: RandomKey(seed: 1337)).sequences.storage[0..<24])
    }

    /// `tune` with an explicit initial prefix needs neither `prefix_length`
    /// nor `prefix_init_method`; without one it still requires both.
    @Test func explicitInitialPrefixNeedsNoPrefixSettings() throws {
        let predictor = try Predictor(config: PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 4),
                                      torsoConfig: .lstm(LSTMTorsoConfig(hiddenSizes: [3])))
        let parameters = predictor.initialParameters(seed: 1)
        let data = DataGeneratorConfig.categorical(.init(batchSize: 2, sequenceLength: 3, vocabSize: 2, biases: [0.3, 0.7]))
        let config = TuningConfig(numTuningSteps: 1, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 0, prefixInitSeed: 0,
                                  tuningMethod: .prefixSoft, prefixLength: nil, prefixInitMethod: nil)
        let given = Tensor.normal(shape: [3, 4], key: RandomKey(seed: 2))
        let result = try Tuning.tune(predictor: predictor, parameters: parameters, data: data, config: config, initialPrefix: given)
        #expect(result.initialPrefix == given && result.prefix?.shape == [3, 4])
        expectThunniniError(["prefix_length"]) {
            _ = try Tuning.tune(predictor: predictor, parameters: parameters, data: data, config: config)
        }
    }
}
