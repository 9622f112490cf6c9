/// Validation of the predictor and torso configs (see `ValidatableConfig`).

extension PredictorConfig: ValidatableConfig {
    public func validate() throws {
        try ConfigCheck.atLeast(2, tokenDimensionality, "token_dimensionality")
        try ConfigCheck.atLeast(1, embeddingDimensionality, "embedding_dimensionality")
    }

    /// Validates this config, `torso`, and what they require of each other:
    /// a transformer splits the embedding width E into `num_attention_heads`
    /// heads, so E must be divisible by it.
    public func validate(with torso: TorsoConfig) throws {
        try validate()
        try torso.validate()
        if case .transformer(let transformer) = torso,
           embeddingDimensionality % transformer.numAttentionHeads != 0 {
            throw ThunniniError.invalidConfig("num_attention_heads",
                "\(transformer.numAttentionHeads) does not divide embedding_dimensionality \(embeddingDimensionality)")
        }
    }
}

extension TorsoConfig: ValidatableConfig {
    public func validate() throws {
        switch self {
        case .linear(let config): try config.validate()
        case .lstm(let config): try config.validate()
        case .transformer(let config): try config.validate()
        }
    }
}

/// One layer per entry of `hidden_sizes`, each of positive width.
private func validateHiddenSizes(_ hiddenSizes: [Int]) throws {
    guard !hiddenSizes.isEmpty else {
        throw ThunniniError.invalidConfig("hidden_sizes", "must list at least one layer")
    }
    for (layer, size) in hiddenSizes.enumerated() {
        try ConfigCheck.atLeast(1, size, "hidden_sizes[\(layer)]")
    }
}

extension LinearTorsoConfig: ValidatableConfig {
    public func validate() throws {
        try ConfigCheck.typeName(torsoType, "torso_type", expected: "Linear")
        try validateHiddenSizes(hiddenSizes)
        // The original's linear torso has no hidden states to return.
        guard !returnHiddenStates else {
            throw ThunniniError.invalidConfig("return_hidden_states", "must be false for the Linear torso")
        }
    }
}

extension LSTMTorsoConfig: ValidatableConfig {
    public func validate() throws {
        try ConfigCheck.typeName(torsoType, "torso_type", expected: "LSTM")
        try validateHiddenSizes(hiddenSizes)
    }
}

extension TransformerTorsoConfig: ValidatableConfig {
    public func validate() throws {
        try ConfigCheck.typeName(torsoType, "torso_type", expected: "Transformer")
        try validateHiddenSizes(hiddenSizes)
        try ConfigCheck.atLeast(1, numAttentionHeads, "num_attention_heads")
        guard positionalEncoding == "SinCos" else {
            throw ThunniniError.invalidConfig("positional_encoding", "must be 'SinCos' (the only one), got '\(positionalEncoding)'")
        }
        try ConfigCheck.atLeast(1, wideningFactor, "widening_factor")
        try ConfigCheck.atLeast(1, reducedRank, "reduced_rank")
    }
}
