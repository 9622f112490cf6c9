import Foundation

/// The fast twins of the attention core (Docs/performance.md): the loops of
/// `attendReference` and `attendBackwardReference` unchanged per (b, h, t),
/// over raw pointers, with the batch split across threads. Sequences never
/// interact, so every output element sees the same operations in the same
/// order as in the scalar kernel.
extension MultiHeadAttention {
    /// Fast twin of `attendReference`; results equal it bit for bit.
    public static func attendFast(q: Tensor, k: Tensor, v: Tensor, headCount: Int,
                                  probabilities: inout Tensor, merged: inout Tensor) {
        let (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2])
        let headWidth = width / headCount
        let inverseSqrtHeadWidth = 1 / Double(headWidth).squareRoot()
        q.withPointer { qP in k.withPointer { kP in v.withPointer { vP in
        probabilities.withMutablePointer { pP in merged.withMutablePointer { mP in
            let (pShared, mShared) = (SharedPointer(pP), SharedPointer(mP))
            Parallel.forEachChunk(of: batch) { chunk in
                let (probabilities, merged) = (pShared.base, mShared.base)
                for b in chunk {
                    for h in 0..<headCount {
                        let headOffset = h * headWidth
                        for t in 0..<length {
                            let qRow = (b * length + t) * width + headOffset
                            let pRow = ((b * headCount + h) * length + t) * length
                            var largest = -Double.infinity
                            for s in 0...t {
                                let kRow = (b * length + s) * width + headOffset
                                var score = 0.0
                                for d in 0..<headWidth { score += qP[qRow + d] * kP[kRow + d] }
                                score *= inverseSqrtHeadWidth
                                probabilities[pRow + s] = score
                                largest = Swift.max(largest, score)
                            }
                            // exp four scores at a time; the total still adds them in s order.
                            var total = 0.0
                            var s = 0
                            while s + 4 <= t + 1 {
                                let p = probabilities + pRow + s
                                let e = Elementary.exp(UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self) - SIMD4(repeating: largest))
                                UnsafeMutableRawPointer(p).storeBytes(of: e, as: SIMD4<Double>.self)
                                total += e[0]
                                total += e[1]
                                total += e[2]
                                total += e[3]
                                s += 4
                            }
                            while s <= t {
                                let e = Elementary.exp(probabilities[pRow + s] - largest)
                                probabilities[pRow + s] = e
                                total += e
                                s += 1
                            }
                            for s in 0...t { probabilities[pRow + s] /= total }
                            for s in 0...t {
                                let weight = probabilities[pRow + s]
                                let vRow = (b * length + s) * width + headOffset
                                for d in 0..<headWidth { merged[qRow + d] += weight * vP[vRow + d] }
                            }
                        }
                    }
                }
            }
        }}}}}
    }

    /// Fast twin of `attendBackwardReference`; results equal it bit for bit.
    public static func attendBackwardFast(dMerged: Tensor, q: Tensor, k: Tensor, v: Tensor, probabilities: Tensor,
                                          headCount: Int, dq: inout Tensor, dk: inout Tensor, dv: inout Tensor) {
        let (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2])
        let headWidth = width / headCount
        let inverseSqrtHeadWidth = 1 / Double(headWidth).squareRoot()
        dMerged.withPointer { doP in q.withPointer { qP in k.withPointer { kP in v.withPointer { vP in
        probabilities.withPointer { pP in
        dq.withMutablePointer { dqP in dk.withMutablePointer { dkP in dv.withMutablePointer { dvP in
            let (dqShared, dkShared, dvShared) = (SharedPointer(dqP), SharedPointer(dkP), SharedPointer(dvP))
            Parallel.forEachChunk(of: batch) { chunk in
                let (dq, dk, dv) = (dqShared.base, dkShared.base, dvShared.base)
                let dScores = UnsafeMutablePointer<Double>.allocate(capacity: max(1, length))
                defer { dScores.deallocate() }
                for b in chunk {
                    for h in 0..<headCount {
                        let headOffset = h * headWidth
                        for t in 0..<length {
                            let qRow = (b * length + t) * width + headOffset
                            let pRow = ((b * headCount + h) * length + t) * length
                            var weighted = 0.0
                            for s in 0...t {
                                let vRow = (b * length + s) * width + headOffset
                                let weight = pP[pRow + s]
                                var dp = 0.0
                                for d in 0..<headWidth {
                                    let dOut = doP[qRow + d]
                                    dp += dOut * vP[vRow + d]
                                    dv[vRow + d] += weight * dOut
                                }
                                dScores[s] = dp
                                weighted += weight * dp
                            }
                            for s in 0...t {
                                let dScore = pP[pRow + s] * (dScores[s] - weighted) * inverseSqrtHeadWidth
                                let kRow = (b * length + s) * width + headOffset
                                for d in 0..<headWidth {
                                    dq[qRow + d] += dScore * kP[kRow + d]
                                    dk[kRow + d] += dScore * qP[qRow + d]
                                }
                            }
                        }
                    }
                }
            }
        }}}}}}}}
    }
}
