@testable import Thunnini

/// The torsos every predictor-level test runs on. A new architecture is
/// tested by adding one line here.
enum TorsoCases {
    static let embeddingSize = 4
    static let vocabSize = 3

    static let all: [(name: String, config: TorsoConfig)] = [
        ("linear", .linear(LinearTorsoConfig(hiddenSizes: [5, 3]))),
        ("lstm-2-layers", .lstm(LSTMTorsoConfig(hiddenSizes: [4, 3], returnHiddenStates: true))),
        ("transformer-lora-bias-2-layers", .transformer(TransformerTorsoConfig(
            hiddenSizes: [3, 2], returnHiddenStates: true, numAttentionHeads: 2, wideningFactor: 2,
            normalizeQK: true, useBias: true, useLoRA: true, reducedRank: 2))),
        ("transformer-plain", .transformer(TransformerTorsoConfig(
            hiddenSizes: [3], numAttentionHeads: 1, wideningFactor: 2, normalizeQK: false))),
    ]

    static var names: [String] { all.map(\.name) }

    static func config(_ name: String) -> TorsoConfig { all.first { $0.name == name }!.config }

    static func predictor(_ name: String) throws -> Predictor {
        try Predictor(config: PredictorConfig(tokenDimensionality: vocabSize, embeddingDimensionality: embeddingSize),
                      torsoConfig: config(name))
    }

    /// Initial parameters plus N(0, noise^2) on every entry, so that zero
    /// initialisations (biases, LoRA_out) carry signal, as in the bundles.
    static func noisyParameters(_ predictor: Predictor, seed: UInt64 = 11, noise: Double = 0.3) -> ParameterTree {
        var tree = predictor.initialParameters(seed: 5)
        let keys = RandomKey(seed: seed).split(into: tree.paths.count)
        for (path, key) in zip(tree.paths, keys) {
            var value = tree[path]
            let perturbation = Tensor.normal(shape: value.shape, key: key)
            for i in 0..<value.count { value.storage[i] += noise * perturbation.storage[i] }
            tree[path] = value
        }
        return tree
    }

    /// B x T one-hot sequences drawn uniformly.
    static func sequences(batch: Int = 2, length: Int = 3, seed: UInt64 = 3) -> Tensor {
        var stream = RandomStream(key: RandomKey(seed: seed))
        var s = Tensor(shape: [batch, length, vocabSize])
        for b in 0..<batch {
            for t in 0..<length { s[b, t, stream.categorical(probabilities: [Double](repeating: 1.0 / Double(vocabSize), count: vocabSize))] = 1 }
        }
        return s
    }

    /// A prefix of `type` with K = 2 rows of normal values (nil for none).
    static func prefix(_ type: PrefixType, seed: UInt64 = 9) -> Prefix {
        switch type {
        case .none: return .none
        case .prepend, .simplex: return Prefix(type: type, values: Tensor.normal(shape: [2, vocabSize], key: RandomKey(seed: seed)))
        case .embedding: return Prefix(type: type, values: Tensor.normal(shape: [2, embeddingSize], key: RandomKey(seed: seed)))
        }
    }
}
