import Foundation

/// An `ExperimentUnitOutput` as the two data files of a part: `arrays.npz`
/// holds every number (float64, so nothing is rounded on the way through a
/// file) and `data.json` the names and integers. Decoding gives back the
/// output bit for bit; Docs/cluster.md lists the array names.
enum PartCodec {
    static let fileNames = ["arrays.npz", "data.json"]

    struct Structure: Codable {
        struct Evaluated: Codable { var source: String; var method: String }
        struct Trajectory: Codable {
            var source: String
            var method: String
            var prefixLength: Int
            enum CodingKeys: String, CodingKey { case source, method, prefixLength = "prefix_length" }
        }
        struct HardPrefix: Codable { var name: String; var tokens: [Int] }
        var evaluations: [Evaluated]
        var hardPrefix: HardPrefix?
        var trajectories: [Trajectory]?
        enum CodingKeys: String, CodingKey { case evaluations, hardPrefix = "hard_prefix", trajectories }
    }

    static func vector(_ values: [Double]) -> Tensor { Tensor(shape: [values.count], storage: values) }

    static func encode(_ output: ExperimentUnitOutput, source: String) throws -> [String: Data] {
        var arrays: [String: Tensor] = [:]
        if let parameters = output.parameters {
            for (path, value) in parameters.values { arrays["parameters/" + path] = value }
        }
        if let curves = output.pretrainingCurves {
            arrays["pretraining/loss"] = vector(curves.losses)
            arrays["pretraining/grad_norm_unclipped"] = vector(curves.gradientNorms)
        }
        if let run = output.tuningRun {
            arrays["tuning/loss"] = vector(run.losses)
            arrays["tuning/grad_norm_unclipped"] = vector(run.gradientNorms)
            if let p = run.initialPrefix { arrays["tuning/initial_prefix"] = p }
            if let p = run.prefix { arrays["tuning/prefix"] = p }
            if let tuned = run.parameters { for (path, value) in tuned.values { arrays["tuning/parameters/" + path] = value } }
        }
        if let losses = output.candidateLosses { arrays["candidate_losses"] = vector(losses) }
        var hardPrefix: Structure.HardPrefix? = nil
        if let (name, found) = output.hardPrefix {
            hardPrefix = .init(name: name, tokens: found.tokens)
            arrays["hard_prefix/loss"] = vector([found.loss])
            arrays["hard_prefix/candidate_losses"] = vector(found.candidateLosses)
        }
        for (i, evaluated) in output.evaluations.enumerated() {
            arrays["evaluation\(i)/losses"] = evaluated.losses
            arrays["evaluation\(i)/examples"] = evaluated.exampleLogProbs
        }
        var trajectories: [Structure.Trajectory]? = nil
        if let dynamics = output.dynamics {
            arrays["dynamics/pca/mean"] = vector(dynamics.pca.mean)
            arrays["dynamics/pca/components"] = Tensor(shape: [dynamics.pca.components.count, dynamics.pca.mean.count],
                                                       storage: dynamics.pca.components.flatMap { $0 })
            arrays["dynamics/pca/variances"] = vector(dynamics.pca.variances)
            arrays["dynamics/fit/projection"] = dynamics.fitProjection
            arrays["dynamics/fit/ground_truth_log_probs"] = dynamics.fitGroundTruthLogProbs
            for (i, t) in dynamics.trajectories.enumerated() { arrays["dynamics/trajectory\(i)"] = t.projection }
            trajectories = dynamics.trajectories.map { .init(source: $0.source, method: $0.method, prefixLength: $0.prefixLength) }
        }
        let structure = Structure(evaluations: output.evaluations.map { .init(source: $0.source, method: $0.method) },
                                  hardPrefix: hardPrefix, trajectories: trajectories)
        return ["arrays.npz": try NPZ.encode(arrays, destination: source + "/arrays.npz"),
                "data.json": try JSONOutput.encode(structure)]
    }

    /// The output back from a part's files; `source` names the part in errors.
    static func decode(_ files: [String: Data], unit: ExperimentUnit, spec: ExperimentSpec, source: String) throws -> ExperimentUnitOutput {
        let arrays = try NPZ.read(files["arrays.npz"]!, source: source + "/arrays.npz")
        let structure = try JSONOutput.decode(Structure.self, from: files["data.json"]!, source: source + "/data.json")
        func array(_ name: String) throws -> Tensor {
            guard let a = arrays[name] else { throw ThunniniError("\(source)/arrays.npz: no array '\(name)'") }
            return a
        }
        func tree(_ prefix: String) -> ParameterTree? {
            let values = arrays.filter { $0.key.hasPrefix(prefix) }
            return values.isEmpty ? nil : ParameterTree(Dictionary(uniqueKeysWithValues: values.map { (String($0.key.dropFirst(prefix.count)), $0.value) }))
        }
        var output = ExperimentUnitOutput()
        output.parameters = tree("parameters/")
        if arrays["pretraining/loss"] != nil {
            output.pretrainingCurves = .init(losses: try array("pretraining/loss").storage,
                                             gradientNorms: try array("pretraining/grad_norm_unclipped").storage)
        }
        if arrays["tuning/loss"] != nil {
            output.tuningRun = .init(losses: try array("tuning/loss").storage, gradientNorms: try array("tuning/grad_norm_unclipped").storage,
                                     initialPrefix: arrays["tuning/initial_prefix"], prefix: arrays["tuning/prefix"],
                                     parameters: tree("tuning/parameters/"))
        }
        output.candidateLosses = arrays["candidate_losses"]?.storage
        if let hard = structure.hardPrefix {
            let loss = try array("hard_prefix/loss").storage
            guard loss.count == 1 else { throw ThunniniError("\(source)/arrays.npz: 'hard_prefix/loss' is not one number") }
            output.hardPrefix = (hard.name, .init(tokens: hard.tokens, loss: loss[0],
                                                  candidateLosses: try array("hard_prefix/candidate_losses").storage))
        }
        let sourceNames = Set(spec.evalDataConfigs.map(\.name))
        for (i, evaluated) in structure.evaluations.enumerated() {
            guard sourceNames.contains(evaluated.source) else {
                throw ThunniniError("\(source)/data.json: evaluation source '\(evaluated.source)' is not in the experiment")
            }
            output.evaluations.append(.init(source: evaluated.source, method: evaluated.method,
                                            losses: try array("evaluation\(i)/losses"), exampleLogProbs: try array("evaluation\(i)/examples")))
        }
        if let trajectories = structure.trajectories {
            let components = try array("dynamics/pca/components")
            let width = components.shape.last ?? 0
            let pca = PCA(mean: try array("dynamics/pca/mean").storage,
                          components: (0..<(components.shape.first ?? 0)).map { Array(components.storage[($0 * width)..<(($0 + 1) * width)]) },
                          variances: try array("dynamics/pca/variances").storage)
            var dynamics = ExperimentResults.Dynamics(pca: pca, fitProjection: try array("dynamics/fit/projection"),
                                                      fitGroundTruthLogProbs: try array("dynamics/fit/ground_truth_log_probs"))
            for (i, t) in trajectories.enumerated() {
                dynamics.trajectories.append(.init(source: t.source, method: t.method, prefixLength: t.prefixLength,
                                                   projection: try array("dynamics/trajectory\(i)")))
            }
            output.dynamics = dynamics
        }
        return output
    }
}
