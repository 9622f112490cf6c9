@testable import Thunnini
import Testing

@Suite("Data generator config checks")
struct DataGeneratorConfigCheckTests {
    /// Each bad config is refused with a ThunniniError naming the field.
    @Test(arguments: [
        (DataGeneratorConfig.categorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: 1, biases: [1])), "vocab_size"),
        (.categorical(.init(batchSize: -1, sequenceLength: 1, vocabSize: 2, biases: [0.5, 0.5])), "batch_size"),
        (.categorical(.init(batchSize: 1, sequenceLength: -2, vocabSize: 2, biases: [0.5, 0.5])), "sequence_length"),
        (.categorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: 3, biases: [0.5, 0.5])), "biases"),
        (.categorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: 2, biases: [0.5, 0.6])), "biases"),
        (.categorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: 2, biases: [1.5, -0.5])), "biases"),
        (.categorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: 2, biases: [.nan, 1])), "biases"),
        (.mixtureOfCategoricals(.init(batchSize: 1, sequenceLength: 1, vocabSize: 2, mixingWeights: [], biases: [])), "mixing_weights"),
        (.mixtureOfCategoricals(.init(batchSize: 1, sequenceLength: 1, vocabSize: 2, mixingWeights: [0.3, 0.3],
                                      biases: [[0.5, 0.5], [0.5, 0.5]])), "mixing_weights"),
        (.mixtureOfCategoricals(.init(batchSize: 1, sequenceLength: 1, vocabSize: 2, mixingWeights: [0.5, 0.5],
                                      biases: [[0.5, 0.5]])), "biases"),
        (.mixtureOfCategoricals(.init(batchSize: 1, sequenceLength: 1, vocabSize: 2, mixingWeights: [0.5, 0.5],
                                      biases: [[0.5, 0.5], [0.5, 0.4]])), "biases[1]"),
        (.mixtureOfCategoricals(.init(batchSize: 1, sequenceLength: 1, vocabSize: 2, mixingWeights: [0.5, 0.5],
                                      biases: [[0.5, 0.5], [0.2, 0.3, 0.5]])), "biases[1]"),
        (.dirichletCategorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: 2, alphas: [1])), "alphas"),
        (.dirichletCategorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: 2, alphas: [1, 0])), "alphas"),
        (.dirichletCategorical(.init(batchSize: 1, sequenceLength: 1, vocabSize: 2, alphas: [1, .infinity])), "alphas"),
    ])
    func badConfigIsRefusedNamingTheField(_ config: DataGeneratorConfig, _ field: String) {
        #expect {
            _ = try makeDataGenerator(config)
        } throws: { error in
            (error as? ThunniniError)?.message.contains("'\(field)'") == true
        }
    }
}
