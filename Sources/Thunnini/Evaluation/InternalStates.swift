/// The network's internal states along whole input sequences, for the
/// experiment notebook's "Internal dynamics" cells: LSTM cell states or
/// transformer attention outputs, every layer concatenated (layer 0 first),
/// at every position that makes a prediction, prefix positions included.
///
/// Position 0 is the BOS position; with a prefix of length K, positions
/// 1 ..< K are the first K - 1 prefix positions and position K (the last
/// prefix position) makes the first sequence prediction. So a trajectory has
/// K + T states, the first K of them "prefix part" (K = 0 without prefix).
public enum InternalStates {
    /// The state names that make up the internal state of a torso, in
    /// concatenation order: `layer{n}_cell` (LSTM) or
    /// `layer{n}_attention_out` (Transformer); empty for the Linear torso,
    /// which has no states.
    public static func stateNames(of config: TorsoConfig) -> [String] {
        switch config {
        case .linear: []
        case .lstm(let c): c.hiddenSizes.indices.map { "layer\($0)_cell" }
        case .transformer(let c): c.hiddenSizes.indices.map { "layer\($0)_attention_out" }
        }
    }

    /// `config` with `return_hidden_states` switched on (the predictor
    /// computes the same outputs; it also returns its states).
    public static func returningStates(_ config: TorsoConfig) -> TorsoConfig {
        switch config {
        case .linear:
            return config
        case .lstm(var c):
            c.returnHiddenStates = true
            return .lstm(c)
        case .transformer(var c):
            c.returnHiddenStates = true
            return .transformer(c)
        }
    }

    /// B x (K + T) x D internal states of `predictor` (whose torso config
    /// must return states) on `sequences` behind `prefix`: the prefix
    /// positions' states followed by the sequence positions' states, the
    /// layers' states concatenated along the last axis.
    public static func trajectories(predictor: Predictor, parameters: ParameterTree, sequences: Tensor,
                                    prefix: Prefix = .none) throws -> Tensor {
        let names = stateNames(of: predictor.torsoConfig)
        guard !names.isEmpty, predictor.torsoConfig.returnHiddenStates else {
            throw ThunniniError("internal states need an LSTM or Transformer torso that returns its hidden states")
        }
        let result = try Evaluation.evaluate(predictor: predictor, parameters: parameters, sequences: sequences, prefix: prefix)
        let batch = sequences.shape[0], length = sequences.shape[1], k = prefix.length
        let widths = names.map { result.states![$0]!.shape[2] }
        let width = widths.reduce(0, +)
        var out = Tensor(shape: [batch, k + length, width])
        var offset = 0
        for (name, w) in zip(names, widths) {
            let sequencePart = result.states![name]!
            let prefixPart = result.prefixStates?[name]
            for b in 0..<batch {
                for t in 0..<(k + length) {
                    let source = t < k ? prefixPart!.storage[((b * k + t) * w)...] : sequencePart.storage[((b * length + t - k) * w)...]
                    let start = source.startIndex
                    for i in 0..<w { out.storage[(b * (k + length) + t) * width + offset + i] = source[start + i] }
                }
            }
            offset += w
        }
        return out
    }
}
