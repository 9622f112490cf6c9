import Foundation

extension CrosscheckBundle {
    /// The `loss` text of predictor bundles (as in the original's bundles).
    public static let lossDescription = "mean over batch of sum over time of softmax cross-entropy of logits against one-hot sequences"

    /// The bytes of `bundle.json`: `JSONOutput` (sorted keys, two-space
    /// indentation, shortest round-trip numbers), except that lists of
    /// integers (array shapes, hidden sizes) stay on one line, so that the
    /// `arrays` block has one line per array.
    public func encodedJSON() throws -> Data {
        var file = BundleFile(
            format: Self.format, kind: kind.rawValue, name: name, source: source,
            loss: kind == .predictor ? Self.lossDescription : nil,
            tolerance: .init(forward: tolerance.forward, grad: tolerance.grad, after_step: tolerance.afterStep, note: tolerance.note),
            predictor_config: predictorConfig, torso_config: torsoConfig, datagen_config: datagenConfig,
            optimizer: nil, cases: nil, tuning: nil,
            arrays: arrays.mapValues(\.shape))
        if let optimizer {
            file.optimizer = .init(learning_rate: optimizer.learningRate, max_grad_norm: optimizer.maxGradNorm,
                                   adam: .init(b1: optimizer.adam.b1, b2: optimizer.adam.b2, eps: optimizer.adam.eps,
                                               eps_root: optimizer.adam.epsRoot),
                                   chain: optimizer.chain)
        }
        if kind == .predictor {
            file.cases = cases.mapValues { .init(prefix_type: $0.prefixType) }
            file.tuning = tuning.mapValues { .init(prefix_type: $0.prefixType, steps: $0.steps) }
        }
        let pretty = String(decoding: try JSONOutput.encode(file), as: UTF8.self)
        // Only whitespace inside `[ ... ]` lists of integers changes.
        let integerList = try NSRegularExpression(pattern: #"\[\s*(-?[0-9]+(?:,\s*-?[0-9]+)*)?\s*\]"#)
        var compact = ""
        var last = pretty.startIndex
        for match in integerList.matches(in: pretty, range: NSRange(pretty.startIndex..., in: pretty)) {
            let range = Range(match.range, in: pretty)!
            compact += pretty[last..<range.lowerBound]
            let numbers = pretty[range].dropFirst().dropLast()
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            compact += "[" + numbers.joined(separator: ", ") + "]"
            last = range.upperBound
        }
        compact += pretty[last...]
        return Data(compact.utf8)
    }

    /// Writes `bundle.json` and `arrays.npz` (float64, deflated as
    /// `numpy.savez_compressed`: a bundle has hundreds of small arrays) into
    /// `output`; the caller commits it, so the bundle appears complete or not at all.
    public func write(to output: AtomicOutputDirectory) throws {
        try output.write(data: encodedJSON(), to: "bundle.json")
        try output.write(npz: arrays, to: "arrays.npz", compressed: true)
    }
}
