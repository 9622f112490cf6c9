extension GoldenRegistry {
    /// One torso of each kind (multi-layer, with hidden states; the
    /// transformer with LoRA and bias), E = 6, V = 3.
    static let goldenTorsos: [(name: String, config: TorsoConfig)] = [
        ("linear", .linear(LinearTorsoConfig(hiddenSizes: [5, 4]))),
        ("lstm", .lstm(LSTMTorsoConfig(hiddenSizes: [5, 4], returnHiddenStates: true))),
        ("transformer", .transformer(TransformerTorsoConfig(hiddenSizes: [4, 3], returnHiddenStates: true, numAttentionHeads: 2,
                                                           wideningFactor: 2, useBias: true, useLoRA: true, reducedRank: 2))),
    ]

    /// Cases of the predictor area: fixed-seed initialisation, and a forward
    /// pass with a simplex prefix on fixed-seed coin-flip data.
    static func predictorCases() -> [GoldenCase] {
        goldenTorsos.flatMap { torso -> [GoldenCase] in
            let makePredictor = {
                try Predictor(config: PredictorConfig(tokenDimensionality: 3, embeddingDimensionality: 6), torsoConfig: torso.config)
            }
            let initialisation = GoldenCase(name: "predictor_\(torso.name)_init") {
                let parameters = try makePredictor().initialParameters(seed: 1)
                return parameters.paths.map { ($0, parameters[$0]) }
            }
            let forward = GoldenCase(name: "predictor_\(torso.name)_forward") {
                let predictor = try makePredictor()
                let parameters = predictor.initialParameters(seed: 1)
                let generator = try makeDataGenerator(goldenSources[0].config)
                let sequences = generator.generate(key: RandomKey(seed: 7), batchSize: 2, sequenceLength: 5).sequences
                let prefix = Prefix(type: .simplex, values: Tensor.uniform(shape: [2, 3], key: RandomKey(seed: 8)))
                let output = try predictor.forward(parameters: parameters, sequences: sequences, prefix: prefix)
                var arrays: [(String, Tensor)] = [("logits", output.logits), ("loss", Tensor(scalar: output.loss)),
                                                  ("prefix_logits", output.prefixLogits!)]
                for name in (output.states ?? [:]).keys.sorted() { arrays.append(("states/\(name)", output.states![name]!)) }
                return arrays
            }
            return [initialisation, forward]
        }
    }
}
