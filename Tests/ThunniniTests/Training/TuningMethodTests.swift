import Foundation
import Testing
@testable import Thunnini

/// Every tuning method on every torso it applies to: the gradient of what the
/// method tunes agrees with finite differences, one step moves exactly that,
/// and everything else stays bit-identical.
@Suite struct TuningMethodTests {
    /// Whether `method` applies to `torso`. Only the two refusals the
    /// original makes may exclude a pair (LoRA tuning off a LoRA transformer,
    /// full tuning of an untrainable torso); any other error is a failure, not
    /// a silently dropped case.
    static func applicable(_ method: TuningMethod, _ torso: String) -> Bool {
        do {
            try method.checkApplicable(to: TorsoCases.config(torso))
            return true
        } catch {
            precondition(method == .loraFinetune || method == .fullParameters,
                         "\(method.rawValue) unexpectedly refused on \(torso): \(error)")
            return false
        }
    }

    static let combinations = TuningMethod.allCases.flatMap { method in
        TorsoCases.names.filter { applicable(method, $0) }.map { (method, $0) }
    }

    static func setUp(_ method: TuningMethod, _ torso: String) throws -> (Predictor, ParameterTree, Tensor, Tensor?) {
        let predictor = try TorsoCases.predictor(torso)
        let parameters = TorsoCases.noisyParameters(predictor)
        let sequences = TorsoCases.sequences()
        let prefix = method.prefixType.map { TorsoCases.prefix($0).values! }
        return (predictor, parameters, sequences, prefix)
    }

    @Test("the tuned subset's gradient agrees with finite differences", arguments: combinations)
    func tunedGradient(method: TuningMethod, torso: String) throws {
        let (predictor, parameters, sequences, prefixValues) = try Self.setUp(method, torso)
        let prefix = Prefix(type: method.prefixType ?? .none, values: prefixValues)
        let output = try predictor.forward(parameters: parameters, sequences: sequences, prefix: prefix)
        let gradients = predictor.gradients(parameters: parameters, sequences: sequences, prefix: prefix, output: output)
        var inputs: [(String, Tensor)] = []
        var analytic: [String: Tensor] = [:]
        if let prefixValues {
            inputs = [("prefix", prefixValues)]
            analytic["prefix"] = gradients.prefix
        } else {
            for path in parameters.paths where method.moves(path) {
                inputs.append((path, parameters[path]))
                analytic[path] = gradients.parameters[path]
            }
        }
        #expect(!inputs.isEmpty)
        GradientCheck.check(layer: "\(method.rawValue)[\(torso)]", inputs: inputs, analytic: analytic) { point in
            var tree = parameters
            for (path, _) in inputs where path != "prefix" { tree[path] = point[path]! }
            let perturbed = Prefix(type: prefix.type, values: point["prefix"] ?? prefix.values)
            return try! predictor.forward(parameters: tree, sequences: sequences, prefix: perturbed).loss
        }
    }

    @Test("one step moves exactly what the method tunes", arguments: combinations)
    func stepMovesExactlyTheTunedSubset(method: TuningMethod, torso: String) throws {
        let (predictor, initial, sequences, initialPrefix) = try Self.setUp(method, torso)
        var parameters = initial
        var prefix = initialPrefix
        var step = try UpdateStep(predictor: predictor, method: method,
                                  hyperparameters: .init(learningRate: 0.01, maxGradNorm: 1), parameters: parameters, prefix: prefix)
        _ = try step.step(parameters: &parameters, prefix: &prefix, sequences: sequences)
        for path in initial.paths {
            if method.moves(path) {
                #expect(parameters[path] != initial[path], "\(method.rawValue): '\(path)' should move")
            } else {
                #expect(parameters[path].storage == initial[path].storage, "\(method.rawValue): '\(path)' must stay bit-identical")
            }
        }
        if method.isPrefixMethod {
            #expect(prefix != initialPrefix)
        } else {
            #expect(prefix == nil)
        }
    }

    /// 8 methods x 4 torsos, minus lora_finetune on the three torsos
    /// without LoRA: 29 cases, so a refusal that crept in cannot shrink the
    /// gradient and step tests unnoticed.
    @Test func everyApplicableCaseIsChecked() {
        #expect(TuningMethod.allCases.count == 8 && TorsoCases.names.count == 4)
        #expect(Self.combinations.count == 29)
        let excluded = TuningMethod.allCases.flatMap { m in TorsoCases.names.map { (m, $0) } }
            .filter { pair in !Self.combinations.contains { $0 == pair } }
        #expect(excluded.map { "\($0.0.rawValue)/\($0.1)" }.sorted()
                == ["lora_finetune/linear", "lora_finetune/lstm-2-layers", "lora_finetune/transformer-plain"])
    }

    @Test func whichPathsEachMethodMoves() {
        let lora = "params/TransformerPredictorTorso_0/MultiheadAttention_0/query/LoRA_in_query/kernel"
        let query = "params/TransformerPredictorTorso_0/MultiheadAttention_0/query/query/kernel"
        let embedding = "params/embedding/kernel", unembedding = "params/unembedding/bias"
        #expect(TuningMethod.fullParameters.moves(query) && !TuningMethod.fullParameters.moves(lora))
        #expect(TuningMethod.loraFinetune.moves(lora) && !TuningMethod.loraFinetune.moves(query))
        #expect(TuningMethod.embedding.moves(embedding) && !TuningMethod.embedding.moves(unembedding))
        #expect(TuningMethod.unembedding.moves(unembedding) && !TuningMethod.unembedding.moves(embedding))
        #expect(TuningMethod.embeddingUnembedding.moves(embedding) && TuningMethod.embeddingUnembedding.moves(unembedding))
        #expect(!TuningMethod.embeddingUnembedding.moves(query))
        for method in [TuningMethod.prefixReal, .prefixSimplex, .prefixSoft] { #expect(!method.moves(embedding)) }
    }

    @Test func theOriginalsRefusalsAreErrors() throws {
        let untrainable = TorsoConfig.lstm(LSTMTorsoConfig(isTrainable: false, hiddenSizes: [3]))
        expectThunniniError(["full_parameters", "trainable"]) { try TuningMethod.fullParameters.checkApplicable(to: untrainable) }
        expectThunniniError(["lora_finetune", "Transformer"]) { try TuningMethod.loraFinetune.checkApplicable(to: TorsoCases.config("lstm-2-layers")) }
        expectThunniniError(["lora_finetune", "use_lora"]) { try TuningMethod.loraFinetune.checkApplicable(to: TorsoCases.config("transformer-plain")) }
        let json = #"{"num_tuning_steps": 1, "learning_rate": 0.1, "max_grad_norm": 1, "data_gen_seed": 0, "prefix_init_seed": 0, "tuning_method": "prefix_hard"}"#
        expectThunniniError(["tuning_method", "prefix_hard"]) { _ = try JSONDecoder().decode(TuningConfig.self, from: Data(json.utf8)) }
    }
}
