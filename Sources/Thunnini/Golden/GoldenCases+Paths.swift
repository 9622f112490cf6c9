extension GoldenRegistry {
    /// `predictor.initialParameters(seed: 1)` plus 0.3 N(0, 1) noise on every
    /// entry (path i of the sorted paths uses `RandomKey(seed: 11).split(into:
    /// paths)[i]`), so that the zero-initialised biases and LoRA_out matrices
    /// carry signal and every term of the forward pass shows in its output.
    static func perturbedParameters(_ predictor: Predictor) -> ParameterTree {
        var tree = predictor.initialParameters(seed: 1)
        let paths = tree.paths
        for (path, key) in zip(paths, RandomKey(seed: 11).split(into: paths.count)) {
            var value = tree[path]
            let noise = Tensor.normal(shape: value.shape, key: key)
            for i in 0..<value.count { value.storage[i] += 0.3 * noise.storage[i] }
            tree[path] = value
        }
        return tree
    }

    /// Cases that pin every path of the predictor: a forward pass (and the
    /// prefix gradient) with perturbed parameters for every torso x every
    /// prefix type, and the quantile band of the experiment summaries.
    static func pathCases() -> [GoldenCase] {
        var cases: [GoldenCase] = []
        for torso in goldenTorsos {
            for type in PrefixType.allCases {
                cases.append(GoldenCase(name: "predictor_\(torso.name)_perturbed_\(type.rawValue)") {
                    let predictor = try Predictor(config: PredictorConfig(tokenDimensionality: 3, embeddingDimensionality: 6),
                                                  torsoConfig: torso.config)
                    let parameters = perturbedParameters(predictor)
                    let generator = try makeDataGenerator(goldenSources[0].config)
                    let sequences = generator.generate(key: RandomKey(seed: 7), batchSize: 2, sequenceLength: 5).sequences
                    let width = type == .embedding ? 6 : 3
                    let prefix = type == .none ? Prefix.none
                        : Prefix(type: type, values: Tensor.normal(shape: [2, width], key: RandomKey(seed: 8)))
                    let output = try predictor.forward(parameters: parameters, sequences: sequences, prefix: prefix)
                    var arrays: [(String, Tensor)] = [("logits", output.logits), ("loss", Tensor(scalar: output.loss))]
                    if let prefixLogits = output.prefixLogits { arrays.append(("prefix_logits", prefixLogits)) }
                    for name in (output.states ?? [:]).keys.sorted() { arrays.append(("states/\(name)", output.states![name]!)) }
                    let gradients = predictor.gradients(parameters: parameters, sequences: sequences, prefix: prefix, output: output)
                    if let prefixGradient = gradients.prefix { arrays.append(("prefix_gradient", prefixGradient)) }
                    arrays.append(("gradient_global_norm", Tensor(scalar: gradients.parameters.globalNorm())))
                    return arrays
                })
            }
        }
        cases.append(GoldenCase(name: "evaluation_quantile_band") {
            // Five and four curves (odd and even counts: the interpolation
            // of numpy's linear quantile shows in the even case), with ties.
            var stream = RandomStream(key: RandomKey(seed: 12))
            var arrays: [(String, Tensor)] = []
            for count in [5, 4] {
                let curves = (0..<count).map { c in (0..<6).map { t in t == 5 ? 1.0 : Double(c) * 0.1 + stream.uniform() } }
                let band = QuantileBand(curves: curves)
                arrays += [("curves_\(count)", Tensor(shape: [count, 6], storage: curves.flatMap { $0 })),
                           ("lower_\(count)", Tensor(shape: [6], storage: band.lower)),
                           ("median_\(count)", Tensor(shape: [6], storage: band.median)),
                           ("upper_\(count)", Tensor(shape: [6], storage: band.upper))]
            }
            return arrays
        })
        return cases
    }
}
