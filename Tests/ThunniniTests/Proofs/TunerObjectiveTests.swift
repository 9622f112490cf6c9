import Foundation
@testable import Thunnini
import Testing

/// The tuner's objective, written here from its definition (the mean over
/// the batch of the summed instant log losses of the sequence tokens; the
/// prefix positions never count), agrees with the loss a tuning step
/// reports, and its finite differences agree with the gradient the
/// optimizer is fed, for every prefix method x every prefix initialisation
/// x every torso. For `prefix_simplex` the differences are taken in the raw
/// values, so the softmax parameterisation is inside the check.
///
/// Catches: a prefix gradient taken with respect to softmax(P) instead of P;
/// prefix positions counted in the loss; a sum over the batch instead of
/// the mean; a gradient that is only right away from the initial points
/// (zeros, the uniform simplex draw, one-hot rows).
@Suite("Proofs: tuner objective")
struct TunerObjectiveTests {
    static let prefixMethods: [TuningMethod] = [.prefixReal, .prefixSimplex, .prefixSoft]
    static let cases: [(TuningMethod, PrefixInitMethod, String)] = prefixMethods.flatMap { method in
        PrefixInitMethod.allCases.flatMap { initMethod in TorsoCases.names.map { (method, initMethod, $0) } }
    }

    /// mean_b sum_t -log softmax(logits[b, t])[token], from the logits alone.
    static func objective(logits: Tensor, sequences: Tensor) -> Double {
        let (batch, length, vocab) = (sequences.shape[0], sequences.shape[1], sequences.shape[2])
        var total = 0.0
        for b in 0..<batch {
            for t in 0..<length {
                let row = (0..<vocab).map { logits[b, t, $0] }
                let largest = row.max()!
                let logNormaliser = largest + log(row.reduce(0) { $0 + exp($1 - largest) })
                for v in 0..<vocab where sequences[b, t, v] != 0 { total -= sequences[b, t, v] * (row[v] - logNormaliser) }
            }
        }
        return total / Double(batch)
    }

    @Test("the 3 prefix methods x 3 initialisations x 4 torsos are all checked")
    func caseCount() {
        #expect(PrefixInitMethod.allCases.count == 3)
        #expect(Self.cases.count == 3 * 3 * TorsoCases.names.count && TorsoCases.names.count == 4)
    }

    @Test("the reported loss is the objective and its gradient agrees with finite differences", arguments: cases)
    func prefixObjective(method: TuningMethod, initMethod: PrefixInitMethod, torso: String) throws {
        let predictor = try TorsoCases.predictor(torso)
        let parameters = TorsoCases.noisyParameters(predictor)
        let sequences = TorsoCases.sequences(batch: 3, length: 3)
        let type = try #require(method.prefixType)
        let width = type == .embedding ? TorsoCases.embeddingSize : TorsoCases.vocabSize
        let initial = Tuning.initialPrefix(length: 2, width: width, method: initMethod, key: RandomKey(seed: 21))
        var prefix: Tensor? = initial
        var weights = parameters
        var step = try UpdateStep(predictor: predictor, method: method, hyperparameters: .init(learningRate: 0.01, maxGradNorm: 1),
                                  parameters: weights, prefix: prefix)
        let report = try step.step(parameters: &weights, prefix: &prefix, sequences: sequences)
        #expect(weights == parameters, "a prefix method must not move weights")
        func objective(_ values: Tensor) -> Double {
            let output = try! predictor.forward(parameters: parameters, sequences: sequences, prefix: Prefix(type: type, values: values))
            return Self.objective(logits: output.logits, sequences: sequences)
        }
        #expect(abs(report.loss - objective(initial)) <= 1e-12 * abs(report.loss))
        #expect(report.gradients.paths == ["prefix"])
        let worst = GradientCheck.check(layer: "\(method.rawValue)/\(initMethod.rawValue)[\(torso)]", parameter: "prefix",
                                        at: initial, analytic: report.gradients["prefix"], function: objective)
        #expect(worst <= GradientCheck.tolerance)
    }

    /// For weight methods the optimizer sees the gradient of the whole tree
    /// (its norm is the clipping norm): every path is there and agrees with
    /// finite differences of the objective, also the frozen ones.
    @Test("weight methods feed the optimizer the whole tree's gradient", arguments: [TuningMethod.embedding, .unembedding])
    func weightObjective(method: TuningMethod) throws {
        let predictor = try TorsoCases.predictor("lstm-2-layers")
        let parameters = TorsoCases.noisyParameters(predictor)
        let sequences = TorsoCases.sequences(batch: 2, length: 3)
        var weights = parameters
        var prefix: Tensor? = nil
        var step = try UpdateStep(predictor: predictor, method: method, hyperparameters: .init(learningRate: 0.01, maxGradNorm: 1),
                                  parameters: weights, prefix: nil)
        let report = try step.step(parameters: &weights, prefix: &prefix, sequences: sequences)
        #expect(report.gradients.paths == parameters.paths)
        #expect(abs(report.gradientNorm - report.gradients.globalNorm()) == 0)
        let inputs = parameters.paths.map { ($0, parameters[$0]) }
        let analytic = Dictionary(uniqueKeysWithValues: parameters.paths.map { ($0, report.gradients[$0]) })
        GradientCheck.check(layer: "\(method.rawValue)[whole tree]", inputs: inputs, analytic: analytic) { point in
            var tree = parameters
            for (path, value) in point { tree[path] = value }
            let output = try! predictor.forward(parameters: tree, sequences: sequences)
            return Self.objective(logits: output.logits, sequences: sequences)
        }
    }

    /// `Tuning.tune` starts from `initialPrefix(... RandomKey(prefix_init_seed))`
    /// and its first reported loss is the objective on the first batch,
    /// drawn with the second half of the first split of RandomKey(data_gen_seed).
    /// The initial prefix of Docs/training.md from the stream's uniforms,
    /// written here: zeros; `simplex` the K x W uniforms row-major; `one_hot`
    /// a one at each row's largest uniform (the first on a tie).
    static func documentedInitialPrefix(length: Int, width: Int, method: PrefixInitMethod, key: RandomKey) -> Tensor {
        var stream = RandomStream(key: key)
        let uniforms = (0..<(length * width)).map { _ in stream.uniform() }
        switch method {
        case .zeros: return Tensor(shape: [length, width])
        case .simplex: return Tensor(shape: [length, width], storage: uniforms)
        case .oneHot:
            var prefix = Tensor(shape: [length, width])
            for k in 0..<length {
                let row = Array(uniforms[(k * width)..<((k + 1) * width)])
                prefix[k, row.firstIndex(of: row.max()!)!] = 1
            }
            return prefix
        }
    }

    @Test func tuneStartsFromTheDocumentedPrefixAndBatch() throws {
        let predictor = try TorsoCases.predictor("lstm-2-layers")
        let parameters = TorsoCases.noisyParameters(predictor)
        let data = DataGeneratorConfig.dirichletCategorical(.init(batchSize: 3, sequenceLength: 4, vocabSize: 3, alphas: [1, 2, 0.5]))
        for initMethod in PrefixInitMethod.allCases {
            let config = TuningConfig(numTuningSteps: 0, learningRate: 0.01, maxGradNorm: 1, dataGenSeed: 4, prefixInitSeed: 6,
                                      tuningMethod: .prefixSimplex, prefixLength: 2, prefixInitMethod: initMethod)
            let result = try Tuning.tune(predictor: predictor, parameters: parameters, data: data, config: config)
            let initial = Self.documentedInitialPrefix(length: 2, width: 3, method: initMethod, key: RandomKey(seed: 6))
            #expect(result.initialPrefix == initial)
            let batch = try makeDataGenerator(data).generate(key: RandomKey(seed: 4).split().1).sequences
            let output = try predictor.forward(parameters: parameters, sequences: batch, prefix: Prefix(type: .simplex, values: initial))
            #expect(result.losses.count == 1)
            #expect(abs(result.losses[0] - Self.objective(logits: output.logits, sequences: batch)) <= 1e-12 * result.losses[0])
        }
    }
}
