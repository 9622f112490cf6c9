import Foundation
import Testing
@testable import Thunnini

/// Asserts that validating `config` fails naming `field` (as `'field'`).
func expectInvalid(_ config: some ValidatableConfig, field: String, sourceLocation: SourceLocation = #_sourceLocation) {
    expectThunniniError(["'\(field)'"], sourceLocation: sourceLocation) { try config.validate() }
}

@Suite struct ConfigValidationTests {
    let categorical = CategoricalGeneratorConfig(batchSize: 4, sequenceLength: 5, vocabSize: 2, biases: [0.2, 0.8])
    let mixture = MixtureOfCategoricalsGeneratorConfig(batchSize: 4, sequenceLength: 5, vocabSize: 2,
                                                       mixingWeights: [0.25, 0.75], biases: [[0.2, 0.8], [0.8, 0.2]])
    let dirichlet = DirichletCategoricalGeneratorConfig(batchSize: 4, sequenceLength: 5, vocabSize: 3, alphas: [0.5, 1, 2])
    let transformer = TransformerTorsoConfig(hiddenSizes: [8], numAttentionHeads: 2)
    let training = TrainingConfig(numTrainingSteps: 10, learningRate: 1e-3, maxGradNorm: 1, dataGenSeed: 0, predictorInitSeed: 1)
    let tuning = TuningConfig(numTuningSteps: 3, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 0, prefixInitSeed: 1,
                              tuningMethod: .prefixReal, prefixLength: 2)

    @Test func validConfigsPass() throws {
        try DataGeneratorConfig.categorical(categorical).validate()
        try DataGeneratorConfig.mixtureOfCategoricals(mixture).validate()
        try DataGeneratorConfig.dirichletCategorical(dirichlet).validate()
        try PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 8).validate(with: .transformer(transformer))
        try TorsoConfig.linear(.init(hiddenSizes: [4, 2])).validate()
        try TorsoConfig.lstm(.init(hiddenSizes: [4], returnHiddenStates: true)).validate()
        try training.validate()
        try tuning.validate()
        // Probabilities within 1e-6 of summing to one are accepted.
        var nearlyOne = categorical
        nearlyOne.biases = [0.2, 0.8 + 5e-7]
        try nearlyOne.validate()
    }

    @Test func sharedGeneratorSizes() {
        var config = categorical
        config.batchSize = 0
        expectInvalid(config, field: "batch_size")
        config = categorical
        config.sequenceLength = -1
        expectInvalid(config, field: "sequence_length")
        config = categorical
        config.vocabSize = 1
        config.biases = [1]
        expectInvalid(config, field: "vocab_size")
    }

    @Test func biasesMustSumToOne() {
        var config = categorical
        config.biases = [0.25, 0.5]
        expectThunniniError(["'biases'", "sum to 0.75"]) { try config.validate() }
    }

    @Test func biasesMustBeNonNegative() {
        var config = categorical
        config.biases = [-0.2, 1.2]
        expectInvalid(config, field: "biases[0]")
    }

    @Test func biasesLengthMustMatchVocabSize() {
        var config = categorical
        config.biases = [0.2, 0.3, 0.5]
        expectThunniniError(["'biases'", "3 entries", "vocab_size is 2"]) { try config.validate() }
    }

    @Test func nonFiniteProbabilities() {
        var config = categorical
        config.biases = [.nan, 1]
        expectInvalid(config, field: "biases[0]")
        var weights = mixture
        weights.mixingWeights = [.infinity, 0]
        expectInvalid(weights, field: "mixing_weights[0]")
    }

    @Test func mixingWeightsMustSumToOne() {
        var config = mixture
        config.mixingWeights = [0.5, 0.6]
        expectInvalid(config, field: "mixing_weights")
        config.mixingWeights = [1.5, -0.5]
        expectInvalid(config, field: "mixing_weights[1]")
    }

    @Test func mixtureRowsMustMatchMixingWeights() {
        var config = mixture
        config.biases = [[0.2, 0.8]]
        expectThunniniError(["'biases'", "1 rows", "mixing_weights has 2"]) { try config.validate() }
    }

    @Test func mixtureRowLengthMustMatchVocabSize() {
        var config = mixture
        config.biases = [[0.2, 0.8], [0.5, 0.25, 0.25]]
        expectInvalid(config, field: "biases[1]")
    }

    @Test func everyMixtureRowMustSumToOne() {
        var config = mixture
        config.biases = [[0.2, 0.8], [0.5, 0.4]]
        expectInvalid(config, field: "biases[1]")
        config.biases = [[0.2, 0.8], [1.5, -0.5]]
        expectInvalid(config, field: "biases[1][1]")
    }

    @Test func alphasMustBePositiveAndFinite() {
        var config = dirichlet
        config.alphas = [0.5, 0, 2]
        expectInvalid(config, field: "alphas[1]")
        config.alphas = [0.5, 1, .infinity]
        expectInvalid(config, field: "alphas[2]")
    }

    @Test func alphasLengthMustMatchVocabSize() {
        var config = dirichlet
        config.alphas = [1, 1]
        expectInvalid(config, field: "alphas")
    }

    @Test func generatorTypeMustMatchTheCase() {
        var config = categorical
        config.generatorType = "Dirichlet-Categorical"
        expectInvalid(config, field: "generator_type")
    }

    @Test func predictorSizes() {
        expectInvalid(PredictorConfig(tokenDimensionality: 1, embeddingDimensionality: 4), field: "token_dimensionality")
        expectInvalid(PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 0), field: "embedding_dimensionality")
    }

    @Test func hiddenSizesMustBePositive() {
        expectInvalid(TorsoConfig.linear(.init(hiddenSizes: [4, 0])), field: "hidden_sizes[1]")
        expectInvalid(TorsoConfig.lstm(.init(hiddenSizes: [-2])), field: "hidden_sizes[0]")
        expectInvalid(TorsoConfig.transformer(.init(hiddenSizes: [], numAttentionHeads: 2)), field: "hidden_sizes")
    }

    @Test func linearTorsoHasNoHiddenStates() {
        expectInvalid(LinearTorsoConfig(hiddenSizes: [3], returnHiddenStates: true), field: "return_hidden_states")
    }

    @Test func attentionHeadsMustBePositive() {
        var config = transformer
        config.numAttentionHeads = 0
        expectInvalid(config, field: "num_attention_heads")
    }

    @Test func embeddingMustDivideIntoHeads() {
        var config = transformer
        config.numAttentionHeads = 3
        expectThunniniError(["'num_attention_heads'", "embedding_dimensionality 8"]) {
            try PredictorConfig(tokenDimensionality: 2, embeddingDimensionality: 8).validate(with: .transformer(config))
        }
    }

    @Test func positionalEncodingMustBeSinCos() {
        var config = transformer
        config.positionalEncoding = "Learned"
        expectInvalid(config, field: "positional_encoding")
    }

    @Test func wideningAndRankMustBePositive() {
        var config = transformer
        config.wideningFactor = 0
        expectInvalid(config, field: "widening_factor")
        config = transformer
        config.reducedRank = 0
        expectInvalid(config, field: "reduced_rank")
    }

    @Test func trainingStepsAndRates() {
        var config = training
        config.numTrainingSteps = -1
        expectInvalid(config, field: "num_training_steps")
        config = training
        config.learningRate = 0
        expectInvalid(config, field: "learning_rate")
        config.learningRate = .nan
        expectInvalid(config, field: "learning_rate")
        config = training
        config.maxGradNorm = -1
        expectInvalid(config, field: "max_grad_norm")
    }

    @Test func tuningStepsRatesAndRepetitions() {
        var config = tuning
        config.numTuningSteps = -1
        expectInvalid(config, field: "num_tuning_steps")
        config = tuning
        config.learningRate = -0.1
        expectInvalid(config, field: "learning_rate")
        config = tuning
        config.maxGradNorm = .infinity
        expectInvalid(config, field: "max_grad_norm")
        config = tuning
        config.numTuningRepetitions = 0
        expectInvalid(config, field: "num_tuning_repetitions")
    }

    @Test func prefixLengthMustBeNonNegativeAndPresentForPrefixMethods() throws {
        var config = tuning
        config.prefixLength = -1
        expectInvalid(config, field: "prefix_length")
        config.prefixLength = nil
        expectInvalid(config, field: "prefix_length")
        config.prefixLength = 2
        config.prefixInitMethod = nil
        expectInvalid(config, field: "prefix_init_method")
        // Weight methods need no prefix.
        config.tuningMethod = .fullParameters
        config.prefixLength = nil
        try config.validate()
    }
}

@Suite struct ConfigDecodingErrorTests {
    @Test func missingKeyNamesFileAndKey() {
        expectThunniniError(["PRIOR.json: missing key 'alphas'"]) {
            _ = try decodeConfig(DataGeneratorConfig.self, from: Data(
                #"{"generator_type": "Dirichlet-Categorical", "batch_size": 1, "sequence_length": 2, "vocab_size": 2}"#.utf8),
                source: "PRIOR.json")
        }
    }

    @Test func wrongTypeNamesKey() {
        expectThunniniError(["run.json: 'batch_size' must be an integer"]) {
            _ = try decodeConfig(DataGeneratorConfig.self, from: Data(
                #"{"generator_type": "Categorical", "batch_size": "many", "sequence_length": 2, "vocab_size": 2, "biases": [0.5, 0.5]}"#.utf8),
                source: "run.json")
        }
        expectThunniniError(["run.json: 'biases[1]' must be a number"]) {
            _ = try decodeConfig(DataGeneratorConfig.self, from: Data(
                #"{"generator_type": "Categorical", "batch_size": 1, "sequence_length": 2, "vocab_size": 2, "biases": [0.5, "x"]}"#.utf8),
                source: "run.json")
        }
    }

    @Test func nullNamesKey() {
        expectThunniniError(["t.json", "'learning_rate'", "null"]) {
            _ = try decodeConfig(TrainingConfig.self, from: Data(
                #"{"num_training_steps": 1, "learning_rate": null, "max_grad_norm": 1, "data_gen_seed": 0, "predictor_init_seed": 0}"#.utf8),
                source: "t.json")
        }
    }

    @Test func unknownTypeNamesFileAndField() {
        expectThunniniError(["torso.json", "'torso_type'", "GRU"]) {
            _ = try decodeConfig(TorsoConfig.self, from: Data(#"{"torso_type": "GRU", "is_trainable": true, "hidden_sizes": [2]}"#.utf8),
                                 source: "torso.json")
        }
    }

    @Test func invalidJSONNamesFile() {
        expectThunniniError(["broken.json", "not valid JSON"]) {
            _ = try decodeConfig(PredictorConfig.self, from: Data("{\"token_dimensionality\": 2,".utf8), source: "broken.json")
        }
    }

    @Test func validationErrorsArePrefixedWithTheFile() {
        expectThunniniError(["g.json: invalid config field 'biases'"]) {
            _ = try decodeConfig(DataGeneratorConfig.self, from: Data(
                #"{"generator_type": "Categorical", "batch_size": 1, "sequence_length": 2, "vocab_size": 2, "biases": [0.5, 0.6]}"#.utf8),
                source: "g.json")
        }
    }
}
