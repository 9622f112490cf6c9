import Testing
@testable import Thunnini

@Suite("Causal multi-head attention")
struct AttentionTests {
    /// Random attention parameters for width `width`.
    static func parameters(_ random: inout LayerTestGenerator, width: Int, normalizeQK: Bool,
                           useBias: Bool, loraRank: Int?) -> MultiHeadAttention.Parameters {
        MultiHeadAttention.Parameters(
            query: random.denseWithLoRA(in: width, out: width, useBias: useBias, loraRank: loraRank),
            key: random.denseWithLoRA(in: width, out: width, useBias: useBias, loraRank: loraRank),
            value: random.denseWithLoRA(in: width, out: width, useBias: useBias, loraRank: loraRank),
            output: random.denseWithLoRA(in: width, out: width, useBias: useBias, loraRank: loraRank),
            queryNormScale: normalizeQK ? random.tensor([width], scale: 0.5) + Tensor(shape: [width], repeating: 1) : nil,
            keyNormScale: normalizeQK ? random.tensor([width], scale: 0.5) + Tensor(shape: [width], repeating: 1) : nil)
    }

    static func named(_ p: MultiHeadAttention.Parameters) -> [(String, Tensor)] {
        var list = p.query.named("query") + p.key.named("key") + p.value.named("value")
            + p.output.named("attention_weights")
        if let s = p.queryNormScale { list.append(("LayerNorm_0/scale", s)) }
        if let s = p.keyNormScale { list.append(("LayerNorm_1/scale", s)) }
        return list
    }

    static func from(_ v: [String: Tensor]) -> MultiHeadAttention.Parameters {
        MultiHeadAttention.Parameters(query: .from(v, prefix: "query"), key: .from(v, prefix: "key"),
                                      value: .from(v, prefix: "value"),
                                      output: .from(v, prefix: "attention_weights"),
                                      queryNormScale: v["LayerNorm_0/scale"], keyNormScale: v["LayerNorm_1/scale"])
    }

    @Test("The first position attends only to itself: y_0 = out(v_0)")
    func firstPosition() throws {
        var random = LayerTestGenerator(seed: 61)
        let p = Self.parameters(&random, width: 4, normalizeQK: true, useBias: true, loraRank: 1)
        let x = random.tensor([1, 3, 4])
        let (y, _) = try MultiHeadAttention.forward(x, parameters: p, headCount: 2)
        let firstRow = Tensor(shape: [1, 4], storage: Array(x.storage[0..<4]))
        let v0 = DenseWithLoRA.forward(firstRow, parameters: p.value).output
        let expected = DenseWithLoRA.forward(v0, parameters: p.output).output
        for d in 0..<4 { #expect(abs(y[0, 0, d] - expected.storage[d]) <= 1e-14) }
    }

    @Test("Outputs at t do not depend on inputs after t (causal mask)")
    func causal() throws {
        var random = LayerTestGenerator(seed: 67)
        let p = Self.parameters(&random, width: 6, normalizeQK: false, useBias: false, loraRank: nil)
        let x = random.tensor([2, 4, 6])
        var changed = x
        for d in 0..<6 { changed[1, 3, d] += 1; changed[0, 2, d] -= 2 }
        let (y, _) = try MultiHeadAttention.forward(x, parameters: p, headCount: 3)
        let (yChanged, _) = try MultiHeadAttention.forward(changed, parameters: p, headCount: 3)
        for d in 0..<6 {
            for t in 0..<3 { #expect(y[1, t, d] == yChanged[1, t, d]) }
            for t in 0..<2 { #expect(y[0, t, d] == yChanged[0, t, d]) }
            #expect(y[0, 2, d] != yChanged[0, 2, d])
        }
    }

    @Test("A width not divisible by the head count is an error")
    func indivisibleHeads() {
        var random = LayerTestGenerator(seed: 71)
        let p = Self.parameters(&random, width: 5, normalizeQK: false, useBias: false, loraRank: nil)
        #expect(throws: ThunniniError.self) {
            _ = try MultiHeadAttention.forward(random.tensor([1, 2, 5]), parameters: p, headCount: 2)
        }
    }

    @Test("Attention gradients match finite differences",
          arguments: [
              (false, false, nil, 1), (true, false, nil, 2), (false, true, nil, 3),
              (true, true, nil, 2), (false, false, 2, 2), (true, false, 1, 3),
              (false, true, 2, 1), (true, true, 2, 2),
          ] as [(Bool, Bool, Int?, Int)])
    func gradients(normalizeQK: Bool, useBias: Bool, loraRank: Int?, heads: Int) throws {
        var random = LayerTestGenerator(seed: 73 + UInt64(heads) * 7 + UInt64(loraRank ?? 0) * 3
                                        + (normalizeQK ? 1 : 0) + (useBias ? 100 : 0))
        let width = 6
        let p = Self.parameters(&random, width: width, normalizeQK: normalizeQK, useBias: useBias, loraRank: loraRank)
        let x = random.tensor([2, 4, width])
        let weights = random.tensor([2, 4, width])
        let (_, cache) = try MultiHeadAttention.forward(x, parameters: p, headCount: heads)
        let (dx, dp) = MultiHeadAttention.backward(weights, cache: cache, parameters: p)
        let inputs = [("x", x)] + Self.named(p)
        let analytic = Dictionary(uniqueKeysWithValues: [("x", dx)] + Self.named(dp))
        #expect(analytic.count == inputs.count)
        let layer = "MultiHeadAttention(normalize_qk: \(normalizeQK), bias: \(useBias), lora: \(loraRank.map(String.init) ?? "none"), heads: \(heads))"
        GradientCheck.check(layer: layer, inputs: inputs, analytic: analytic) { v in
            (try? MultiHeadAttention.forward(v["x"]!, parameters: Self.from(v), headCount: heads))!.output.dot(weights)
        }
    }
}
