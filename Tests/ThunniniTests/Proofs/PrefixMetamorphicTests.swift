import Foundation
@testable import Thunnini
import Testing

/// The four prefix types reduced to the no-prefix forward pass, on every
/// torso, at every size (not only where the original's bundles reach).
/// The oracle is the forward pass without a prefix, whose own correctness
/// the layer and crosscheck tests establish; the prefix code (insertion,
/// offsets, slicing, the softmax of `simplex`) is not on the oracle's path.
@Suite struct PrefixMetamorphicTests {
    /// B x L x X tensor, positions `start ..< start + count`, copied here.
    static func positions(_ x: Tensor, from start: Int, count: Int) -> Tensor {
        let (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2])
        var out = Tensor(shape: [batch, count, width])
        for b in 0..<batch {
            for t in 0..<count { for i in 0..<width { out[b, t, i] = x.storage[(b * length + start + t) * width + i] } }
        }
        return out
    }

    /// [P; S]: the K x V rows of P before every sequence of S.
    static func joined(_ p: Tensor, _ s: Tensor) -> Tensor {
        let (batch, length, vocab) = (s.shape[0], s.shape[1], s.shape[2])
        let k = p.shape[0]
        var out = Tensor(shape: [batch, k + length, vocab])
        for b in 0..<batch {
            for t in 0..<k { for v in 0..<vocab { out[b, t, v] = p[t, v] } }
            for t in 0..<length { for v in 0..<vocab { out[b, k + t, v] = s[b, t, v] } }
        }
        return out
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.shape == b.shape)
        return zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
    }

    /// Prefixes of K = 3: one-hot tokens (2, 0, 1) and real rows.
    static func tokenPrefixes() -> [Tensor] {
        var oneHot = Tensor(shape: [3, TorsoCases.vocabSize])
        for (k, token) in [2, 0, 1].enumerated() { oneHot[k, token] = 1 }
        return [oneHot, Tensor.normal(shape: [3, TorsoCases.vocabSize], key: RandomKey(seed: 31))]
    }

    /// `prepend` P on S is the no-prefix forward on [P; S]: logits, losses
    /// and hidden states at the sequence positions are that pass's positions
    /// K ..< K + T, the prefix logits and prefix states its positions
    /// 0 ..< K, bit for bit. Fails for an off-by-one in any offset (the BOS
    /// slot, the slice start, the prefix rows), the prefix put after the
    /// sequence, or prefix positions scored in the loss.
    @Test(arguments: TorsoCases.names)
    func prependIsTheForwardOnTheJoinedSequence(torso: String) throws {
        let predictor = try TorsoCases.predictor(torso)
        let parameters = TorsoCases.noisyParameters(predictor)
        let s = TorsoCases.sequences(batch: 2, length: 4)
        for p in Self.tokenPrefixes() {
            let k = p.shape[0]
            let prefixed = try predictor.forward(parameters: parameters, sequences: s, prefix: Prefix(type: .prepend, values: p))
            let plain = try predictor.forward(parameters: parameters, sequences: Self.joined(p, s))
            #expect(prefixed.logits == Self.positions(plain.logits, from: k, count: 4), "\(torso)")
            #expect(prefixed.prefixLogits == Self.positions(plain.logits, from: 0, count: k), "\(torso)")
            #expect(prefixed.logProbabilities == Self.positions(plain.logProbabilities, from: k, count: 4))
            let plainLosses = plain.instantLosses.reshaped([2, k + 4, 1])
            #expect(prefixed.instantLosses.reshaped([2, 4, 1]) == Self.positions(plainLosses, from: k, count: 4))
            if let states = prefixed.states {
                for (name, state) in states {
                    #expect(state == Self.positions(plain.states![name]!, from: k, count: 4), "\(torso) \(name)")
                    #expect(prefixed.prefixStates![name]! == Self.positions(plain.states![name]!, from: 0, count: k))
                }
            }
        }
    }

    /// An `embedding` prefix whose rows are onehot(P) W_e + b_e (computed
    /// here) is the `prepend` prefix P. Fails for an embedding prefix
    /// inserted before BOS or after the first token, or its rows embedded a
    /// second time.
    @Test(arguments: TorsoCases.names)
    func embeddedTokensAreThePrependedTokens(torso: String) throws {
        let predictor = try TorsoCases.predictor(torso)
        let parameters = TorsoCases.noisyParameters(predictor)
        let s = TorsoCases.sequences(batch: 2, length: 4)
        let kernel = parameters["params/embedding/kernel"], bias = parameters["params/embedding/bias"]
        let (v, e) = (TorsoCases.vocabSize, TorsoCases.embeddingSize)
        for p in Self.tokenPrefixes() {
            let k = p.shape[0]
            var embedded = Tensor(shape: [k, e])
            for row in 0..<k {
                for j in 0..<e {
                    var sum = bias[j]
                    for i in 0..<v { sum += p[row, i] * kernel[i, j] }
                    embedded[row, j] = sum
                }
            }
            let viaEmbedding = try predictor.forward(parameters: parameters, sequences: s, prefix: Prefix(type: .embedding, values: embedded))
            let viaTokens = try predictor.forward(parameters: parameters, sequences: s, prefix: Prefix(type: .prepend, values: p))
            #expect(Self.maxDifference(viaEmbedding.logits, viaTokens.logits) <= 1e-12, "\(torso)")
            #expect(Self.maxDifference(viaEmbedding.prefixLogits!, viaTokens.prefixLogits!) <= 1e-12, "\(torso)")
            #expect(abs(viaEmbedding.loss - viaTokens.loss) <= 1e-12)
        }
    }

    /// A `simplex` prefix with raw rows L is the `prepend` prefix of rows
    /// softmax(L) (computed here). Fails for a missing or column-wise softmax.
    @Test(arguments: TorsoCases.names)
    func simplexIsThePrependedSoftmax(torso: String) throws {
        let predictor = try TorsoCases.predictor(torso)
        let parameters = TorsoCases.noisyParameters(predictor)
        let s = TorsoCases.sequences(batch: 2, length: 4)
        var raw = Tensor.normal(shape: [3, TorsoCases.vocabSize], key: RandomKey(seed: 32))
        for i in 0..<raw.count { raw.storage[i] *= 2 }
        var softmax = Tensor(shape: raw.shape)
        for row in 0..<3 {
            let values = (0..<TorsoCases.vocabSize).map { raw[row, $0] }
            let top = values.max()!
            let total = values.reduce(0) { $0 + exp($1 - top) }
            for (i, value) in values.enumerated() { softmax[row, i] = exp(value - top) / total }
        }
        let viaSimplex = try predictor.forward(parameters: parameters, sequences: s, prefix: Prefix(type: .simplex, values: raw))
        let viaPrepend = try predictor.forward(parameters: parameters, sequences: s, prefix: Prefix(type: .prepend, values: softmax))
        #expect(Self.maxDifference(viaSimplex.logits, viaPrepend.logits) <= 1e-12, "\(torso)")
        #expect(Self.maxDifference(viaSimplex.prefixLogits!, viaPrepend.prefixLogits!) <= 1e-12, "\(torso)")
    }
}
