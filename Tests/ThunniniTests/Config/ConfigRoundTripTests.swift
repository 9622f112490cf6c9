import Foundation
import Testing
@testable import Thunnini

/// Decodes a JSON literal as a validated config.
func decoded<T: Decodable & ValidatableConfig>(_ type: T.Type, _ json: String) throws -> T {
    try decodeConfig(type, from: Data(json.utf8), source: "test.json")
}

/// encode -> decode gives back an equal config.
func roundTrips<T: Codable & Equatable>(_ config: T) throws -> Bool {
    try JSONDecoder().decode(T.self, from: JSONEncoder().encode(config)) == config
}

@Suite struct ConfigRoundTripTests {
    @Test func everyConfigRoundTrips() throws {
        #expect(try roundTrips(DataGeneratorConfig.categorical(.init(batchSize: 4, sequenceLength: 5, vocabSize: 2, biases: [0.2, 0.8]))))
        #expect(try roundTrips(DataGeneratorConfig.mixtureOfCategoricals(.init(
            batchSize: 4, sequenceLength: 5, vocabSize: 2, mixingWeights: [0.5, 0.5], biases: [[0.1, 0.9], [1, 0]]))))
        #expect(try roundTrips(DataGeneratorConfig.dirichletCategorical(.init(batchSize: 4, sequenceLength: 5, vocabSize: 3, alphas: [0.5, 1, 2]))))
        #expect(try roundTrips(PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 8)))
        #expect(try roundTrips(TorsoConfig.linear(.init(hiddenSizes: [3]))))
        #expect(try roundTrips(TorsoConfig.lstm(.init(isTrainable: false, hiddenSizes: [4, 2], returnHiddenStates: true))))
        #expect(try roundTrips(TorsoConfig.transformer(.init(hiddenSizes: [8], numAttentionHeads: 2, wideningFactor: 2,
                                                             normalizeQK: false, useBias: true, useLoRA: true, reducedRank: 3))))
        #expect(try roundTrips(TrainingConfig(numTrainingSteps: 10, learningRate: 1e-3, maxGradNorm: 1, dataGenSeed: 1, predictorInitSeed: 2)))
        #expect(try roundTrips(TuningConfig(numTuningSteps: 3, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 0, prefixInitSeed: 5,
                                            tuningMethod: .prefixSimplex, numTuningRepetitions: 2, prefixLength: 4,
                                            prefixInitMethod: .oneHot, iterateDatagenSeedOverRepetitions: false)))
        #expect(try roundTrips(TuningConfig(numTuningSteps: 3, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 0, prefixInitSeed: 5,
                                            tuningMethod: .fullParameters, prefixInitMethod: nil)))
    }

    @Test func decodesTheOriginalsDicts() throws {
        let categorical = try decoded(DataGeneratorConfig.self,
            #"{"generator_type": "Categorical", "batch_size": 128, "sequence_length": 100, "vocab_size": 2, "biases": [0.2, 0.8]}"#)
        #expect(categorical == .categorical(.init(batchSize: 128, sequenceLength: 100, vocabSize: 2, biases: [0.2, 0.8])))
        let dirichlet = try decoded(DataGeneratorConfig.self,
            #"{"generator_type": "Dirichlet-Categorical", "batch_size": 128, "sequence_length": 100, "vocab_size": 2, "alphas": [1.0, 1.0]}"#)
        #expect(dirichlet == .dirichletCategorical(.init(batchSize: 128, sequenceLength: 100, vocabSize: 2, alphas: [1, 1])))
        let mixture = try decoded(DataGeneratorConfig.self, """
            {"generator_type": "Mixture-of-Categoricals", "batch_size": 8, "sequence_length": 30, "vocab_size": 2,
             "mixing_weights": [0.25, 0.75], "biases": [[0.2, 0.8], [0.8, 0.2]]}
            """)
        #expect(mixture == .mixtureOfCategoricals(.init(batchSize: 8, sequenceLength: 30, vocabSize: 2,
                                                        mixingWeights: [0.25, 0.75], biases: [[0.2, 0.8], [0.8, 0.2]])))
        let transformer = try decoded(TorsoConfig.self,
            #"{"torso_type": "Transformer", "is_trainable": true, "hidden_sizes": [32, 32], "num_attention_heads": 4}"#)
        #expect(transformer == .transformer(.init(hiddenSizes: [32, 32], numAttentionHeads: 4)))
        let training = try decoded(TrainingConfig.self,
            #"{"num_training_steps": 1000, "learning_rate": 0.001, "max_grad_norm": 1.0, "data_gen_seed": 0, "predictor_init_seed": 1}"#)
        #expect(training == TrainingConfig(numTrainingSteps: 1000, learningRate: 0.001, maxGradNorm: 1, dataGenSeed: 0, predictorInitSeed: 1))
        let tuning = try decoded(TuningConfig.self, """
            {"num_tuning_steps": 100, "learning_rate": 0.01, "max_grad_norm": 1.0, "data_gen_seed": 3,
             "prefix_init_seed": 4, "tuning_method": "prefix_soft", "prefix_length": 5}
            """)
        #expect(tuning.tuningMethod == .prefixSoft && tuning.prefixLength == 5 && tuning.prefixInitMethod == .simplex)
        #expect(tuning.numTuningRepetitions == 1 && tuning.iterateDatagenSeedOverRepetitions)
    }

    /// The configs exactly as the original dumped them into the cross-check bundles.
    @Test(arguments: ["linear", "lstm", "transformer_lora", "transformer_bias_v3",
                      "datagen_categorical_v3", "datagen_dirichlet_v3", "datagen_mixture_v2"])
    func decodesTheBundlesConfigs(bundle: String) throws {
        let url = repositoryRoot().appendingPathComponent("Golden/crosscheck/thunnini-jax/\(bundle)/bundle.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        func section(_ key: String) throws -> Data? {
            guard let value = object[key] else { return nil }
            return try JSONSerialization.data(withJSONObject: value)
        }
        if let data = try section("datagen_config") {
            let config = try decodeConfig(DataGeneratorConfig.self, from: data, source: bundle)
            #expect(try roundTrips(config))
        }
        if let data = try section("predictor_config") {
            let predictor = try decodeConfig(PredictorConfig.self, from: data, source: bundle)
            let torso = try decodeConfig(TorsoConfig.self, from: try #require(try section("torso_config")), source: bundle)
            try predictor.validate(with: torso)
            #expect(try roundTrips(torso))
            // Every key the original wrote is read back under the same name and value.
            let original = object["torso_config"] as! [String: Any]
            let reencoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(torso)) as! [String: Any]
            #expect(Set(original.keys).isSubset(of: Set(reencoded.keys)))
            for (key, value) in original {
                #expect("\(value)" == "\(reencoded[key]!)", "torso_config.\(key)")
            }
        }
    }
}
