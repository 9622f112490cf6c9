import Testing
@testable import Thunnini

/// Finite differences of the whole predictor's loss against `gradients`, for
/// every torso in `TorsoCases` and every prefix type: all parameters and the
/// prefix, all coordinates (the shapes are small).
@Suite("Predictor gradients")
struct PredictorGradientTests {
    static let combinations = TorsoCases.names.flatMap { torso in PrefixType.allCases.map { (torso, $0) } }

    @Test("loss gradient agrees with finite differences", arguments: combinations)
    func lossGradient(torso: String, prefixType: PrefixType) throws {
        let predictor = try TorsoCases.predictor(torso)
        let parameters = TorsoCases.noisyParameters(predictor)
        let sequences = TorsoCases.sequences()
        let prefix = TorsoCases.prefix(prefixType)
        let output = try predictor.forward(parameters: parameters, sequences: sequences, prefix: prefix)
        let analytic = predictor.gradients(parameters: parameters, sequences: sequences, prefix: prefix, output: output)

        var inputs = parameters.paths.map { ($0, parameters[$0]) }
        var analyticByName = analytic.parameters.values
        #expect(Set(analytic.parameters.paths) == Set(parameters.paths), "gradient tree must cover every parameter")
        if let values = prefix.values {
            inputs.append(("prefix", values))
            analyticByName["prefix"] = try #require(analytic.prefix)
        } else {
            #expect(analytic.prefix == nil)
        }
        GradientCheck.check(layer: "predictor[\(torso), \(prefixType.rawValue)]", inputs: inputs, analytic: analyticByName) { point in
            var tree = parameters
            for path in parameters.paths { tree[path] = point[path]! }
            let perturbedPrefix = Prefix(type: prefix.type, values: point["prefix"])
            return try! predictor.forward(parameters: tree, sequences: sequences, prefix: perturbedPrefix).loss
        }
    }
}
