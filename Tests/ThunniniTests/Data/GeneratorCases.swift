@testable import Thunnini
import Testing

/// One data generator under test, buildable for any vocab size V >= 2.
///
/// Every parameterised test in this folder runs over `allGeneratorCases`:
/// a new generator is tested by adding one entry here.
struct GeneratorCase: CustomTestStringConvertible, Sendable {
    let name: String
    /// A config of this generator for vocab size V (batch 4, length 6).
    let make: @Sendable (_ vocabSize: Int) -> DataGeneratorConfig

    var testDescription: String { name }

    /// The generator for vocab size V (the configs here are valid).
    func generator(vocabSize: Int) throws -> any DataGenerator {
        try makeDataGenerator(make(vocabSize))
    }
}

/// Non-uniform probabilities proportional to `weights`.
func normalised(_ weights: [Double]) -> [Double] {
    let sum = weights.reduce(0, +)
    return weights.map { $0 / sum }
}

/// Every generator, with deliberately asymmetric parameters so that
/// mixing up token indices would show.
let allGeneratorCases: [GeneratorCase] = [
    GeneratorCase(name: "Categorical") { v in
        .categorical(CategoricalGeneratorConfig(
            batchSize: 4, sequenceLength: 6, vocabSize: v,
            biases: normalised((0..<v).map { Double($0) + 1 })))
    },
    GeneratorCase(name: "Mixture-of-Categoricals") { v in
        .mixtureOfCategoricals(MixtureOfCategoricalsGeneratorConfig(
            batchSize: 4, sequenceLength: 6, vocabSize: v,
            mixingWeights: [0.5, 0.3, 0.2],
            biases: [
                normalised((0..<v).map { Double($0) + 1 }),
                normalised((0..<v).map { Double(v - $0) * 2 }),
                normalised((0..<v).map { $0 == 1 ? 5 : 1 }),
            ]))
    },
    GeneratorCase(name: "Dirichlet-Categorical") { v in
        .dirichletCategorical(DirichletCategoricalGeneratorConfig(
            batchSize: 4, sequenceLength: 6, vocabSize: v,
            alphas: (0..<v).map { 0.5 + 0.7 * Double($0) }))
    },
]

/// All sequences of `length` tokens over `vocabSize` symbols (vocabSize^length
/// of them, in odometer order), as one B x length x V one-hot batch.
func allSequences(length: Int, vocabSize: Int) -> (tokens: [[Int]], oneHot: Tensor) {
    var tokens: [[Int]] = []
    var current = [Int](repeating: 0, count: length)
    while true {
        tokens.append(current)
        var position = length - 1
        while position >= 0 && current[position] == vocabSize - 1 {
            current[position] = 0
            position -= 1
        }
        if position < 0 { break }
        current[position] += 1
    }
    var oneHot = Tensor(shape: [tokens.count, length, vocabSize])
    for (b, sequence) in tokens.enumerated() {
        for (t, token) in sequence.enumerated() { oneHot[b, t, token] = 1 }
    }
    return (tokens, oneHot)
}
