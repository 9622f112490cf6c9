import Foundation

/// The fast twins of the attention core (Docs/performance.md): the loops of
/// `attendReference` and `attendBackwardReference` with the batch split
/// across threads (sequences never interact) and independent outputs
/// computed four at a time:
/// - the scores of one query against four keys at once, from a transposed
///   copy of the head's keys (each score still adds its d terms in d order);
/// - the softmax's exponentials sixteen at a time (`Elementary`), its max
///   and total in s order as in the scalar loop;
/// - the weighted sums (`merged`, `dq`, `dk`, `dv`) four features at a time,
///   each feature adding its s (or t) terms in the scalar loop's order and
///   kept in registers across them (dv and dk after the t loop, from the
///   stored dS, as sums over t ascending).
/// Every output element therefore sees the same operations in the same
/// order as in the scalar kernel.
extension MultiHeadAttention {
    /// Fast twin of `attendReference`; results equal it bit for bit. Writes
    /// every element of `probabilities` and `merged` (their values on entry
    /// do not matter).
    public static func attendFast(q: Tensor, k: Tensor, v: Tensor, headCount: Int,
                                  probabilities: inout Tensor, merged: inout Tensor) {
        probabilities.withMutablePointer { pP in merged.withMutablePointer { mP in
            attendFast(q: q, k: k, v: v, headCount: headCount, probabilities: pP, merged: mP)
        }}
    }

    /// The probabilities `[B, H, L, L]` and merged heads `[B, L, E]` of
    /// `attendFast`, written in full (zeros above the diagonal) into
    /// uninitialized memory.
    static func attendFastAllocating(q: Tensor, k: Tensor, v: Tensor, headCount: Int) -> (probabilities: Tensor, merged: Tensor) {
        let (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2])
        var merged = Tensor.zeros([0])
        let probabilities = Tensor(shape: [batch, headCount, length, length]) { pP in
            merged = Tensor(shape: [batch, length, width]) { mP in
                attendFast(q: q, k: k, v: v, headCount: headCount, probabilities: pP, merged: mP)
            }
        }
        return (probabilities, merged)
    }

    static func attendFast(q: Tensor, k: Tensor, v: Tensor, headCount: Int,
                           probabilities pP: UnsafeMutablePointer<Double>, merged mP: UnsafeMutablePointer<Double>) {
        let (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2])
        let headWidth = width / headCount
        let inverseSqrtHeadWidth = 1 / Double(headWidth).squareRoot()
        q.withPointer { qP in k.withPointer { kP in v.withPointer { vP in
            let (pShared, mShared) = (SharedPointer(pP), SharedPointer(mP))
            Parallel.forEachChunk(of: batch) { chunk in
                let (probabilities, merged) = (pShared.base, mShared.base)
                let keysTransposed = UnsafeMutablePointer<Double>.allocate(capacity: max(1, headWidth * length))
                // One head's shifted scores `score - largest`, row t's t + 1
                // of them after the rows before it: the causal triangle packed,
                // so that one exp call covers it in whole sixteen-lane vectors
                // (row by row, every row's last vector was part padding).
                let triangle = UnsafeMutablePointer<Double>.allocate(capacity: max(1, length * (length + 1) / 2))
                defer { keysTransposed.deallocate(); triangle.deallocate() }
                for b in chunk {
                    for h in 0..<headCount {
                        let headOffset = h * headWidth
                        transposeHead(kP, b: b, headOffset: headOffset, length: length, width: width,
                                      headWidth: headWidth, into: keysTransposed)
                        let headScores = probabilities + (b * headCount + h) * length * length
                        var rowStart = 0
                        for t in 0..<length {
                            let qRow = (b * length + t) * width + headOffset
                            let scores = headScores + t * length
                            dotProducts(query: qP + qRow, keysTransposed: keysTransposed, length: length,
                                        headWidth: headWidth, count: t + 1, scale: inverseSqrtHeadWidth, into: scores)
                            var largest = -Double.infinity
                            for s in 0...t { largest = Swift.max(largest, scores[s]) }
                            for s in 0...t { triangle[rowStart + s] = scores[s] - largest }
                            rowStart += t + 1
                        }
                        // Softmax over s: exp(score - largest) (lanes are
                        // independent), the total in s order, the division.
                        Elementary.exp(triangle, into: triangle, count: rowStart)
                        rowStart = 0
                        for t in 0..<length {
                            let qRow = (b * length + t) * width + headOffset
                            let (scores, exps) = (headScores + t * length, triangle + rowStart)
                            var total = 0.0
                            for s in 0...t { total += exps[s] }
                            for s in 0...t { scores[s] = exps[s] / total }
                            (scores + t + 1).update(repeating: 0, count: length - t - 1)  // the causal mask
                            (merged + qRow).update(repeating: 0, count: headWidth)
                            rowStart += t + 1
                        }
                        // merged_t += sum over s <= t of P[t, s] v_s, s ascending.
                        let head = b * length * width + headOffset    // row 0 of this head's columns
                        accumulateTriangle(.lower, headScores, length: length, rows: vP + head, rowStride: width,
                                           into: merged + head, targetStride: width, headWidth: headWidth)
                    }
                }
            }
        }}}
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
                let valuesTransposed = UnsafeMutablePointer<Double>.allocate(capacity: max(1, headWidth * length))
                // dS[t, s] of one (b, h), row t at t * length.
                let scoreGradients = UnsafeMutablePointer<Double>.allocate(capacity: max(1, length * length))
                defer { dScores.deallocate(); valuesTransposed.deallocate(); scoreGradients.deallocate() }
                for b in chunk {
                    for h in 0..<headCount {
                        let headOffset = h * headWidth
                        let weightsOfHead = pP + (b * headCount + h) * length * length
                        transposeHead(vP, b: b, headOffset: headOffset, length: length, width: width,
                                      headWidth: headWidth, into: valuesTransposed)
                        for t in 0..<length {
                            let qRow = (b * length + t) * width + headOffset
                            let weights = weightsOfHead + t * length
                            // dP[t, s] = dO_t . v_s (d order), and its P-weighted sum (s order).
                            dotProducts(query: doP + qRow, keysTransposed: valuesTransposed, length: length,
                                        headWidth: headWidth, count: t + 1, scale: nil, into: dScores)
                            var weighted = 0.0
                            for s in 0...t { weighted += weights[s] * dScores[s] }
                            // dS[t, s] (dq below, from every row of dS).
                            let dS = scoreGradients + t * length
                            for s in 0...t { dS[s] = weights[s] * (dScores[s] - weighted) * inverseSqrtHeadWidth }
                        }
                        // dq_t += sum over s <= t of dS[t, s] k_s (s ascending), dv_s +=
                        // sum over t >= s of P[t, s] dO_t and dk_s += dS[t, s] q_t (t
                        // ascending), as in the scalar loop.
                        let head = b * length * width + headOffset    // row 0 of this head's columns
                        accumulateTriangle(.lower, scoreGradients, length: length, rows: kP + head, rowStride: width,
                                           into: dq + head, targetStride: width, headWidth: headWidth)
                        accumulateTriangle(.upper, weightsOfHead, length: length, rows: doP + head, rowStride: width,
                                           into: dv + head, targetStride: width, headWidth: headWidth)
                        accumulateTriangle(.upper, scoreGradients, length: length, rows: qP + head, rowStride: width,
                                           into: dk + head, targetStride: width, headWidth: headWidth)
                    }
                }
            }
        }}}}}}}}
    }

    /// `transposed[d * length + s]` = feature d of head `headOffset / headWidth`
    /// at position s of sequence b.
    @inline(__always)
    static func transposeHead(_ x: UnsafePointer<Double>, b: Int, headOffset: Int, length: Int, width: Int,
                              headWidth: Int, into transposed: UnsafeMutablePointer<Double>) {
        for s in 0..<length {
            let row = x + (b * length + s) * width + headOffset
            for d in 0..<headWidth { transposed[d * length + s] = row[d] }
        }
    }

    /// `out[s] = (sum over d in order of query[d] keys[d, s]) [* scale]` for
    /// `s < count`, four keys at a time (each sum from zero, as the scalar loop).
    @inline(__always)
    static func dotProducts(query: UnsafePointer<Double>, keysTransposed: UnsafePointer<Double>, length: Int,
                            headWidth: Int, count: Int, scale: Double?, into out: UnsafeMutablePointer<Double>) {
        var s = 0
        while s + 4 <= count {
            var score = SIMD4<Double>()
            for d in 0..<headWidth {
                score += SIMD4(repeating: query[d]) * UnsafeRawPointer(keysTransposed + d * length + s).loadUnaligned(as: SIMD4<Double>.self)
            }
            if let scale { score *= scale }
            UnsafeMutableRawPointer(out + s).storeBytes(of: score, as: SIMD4<Double>.self)
            s += 4
        }
        while s < count {
            var score = 0.0
            for d in 0..<headWidth { score += query[d] * keysTransposed[d * length + s] }
            if let scale { score *= scale }
            out[s] = score
            s += 1
        }
    }

    /// `target[d] += weights[s * weightStride] * rows[s * rowStride + d]` for
    /// s in order (`s < count`), for every `d < headWidth`: four features at a
    /// time, each kept in a register across s.
    @inline(__always)
    static func accumulateWeightedRows(_ weights: UnsafePointer<Double>, weightStride: Int, count: Int,
                                       rows: UnsafePointer<Double>, rowStride: Int,
                                       into target: UnsafeMutablePointer<Double>, headWidth: Int) {
        var d = 0
        while d + 4 <= headWidth {
            var sum = UnsafeRawPointer(target + d).loadUnaligned(as: SIMD4<Double>.self)
            for s in 0..<count {
                sum += SIMD4(repeating: weights[s * weightStride])
                    * UnsafeRawPointer(rows + s * rowStride + d).loadUnaligned(as: SIMD4<Double>.self)
            }
            UnsafeMutableRawPointer(target + d).storeBytes(of: sum, as: SIMD4<Double>.self)
            d += 4
        }
        while d < headWidth {
            var sum = target[d]
            for s in 0..<count { sum += weights[s * weightStride] * rows[s * rowStride + d] }
            target[d] = sum
            d += 1
        }
    }

    /// Which weighted sums `accumulateTriangle` adds: over the lower
    /// triangle, target t gets `sum over s <= t` (ascending) of `W[t, s]
    /// row_s` (merged heads from P and v; dq from dS and k); over the upper,
    /// target s gets `sum over t >= s` (ascending) of `W[t, s] row_t` (dv from
    /// P and dO; dk from dS and q). `W[t, s]` is `weights[t * length + s]`.
    enum Triangle { case lower, upper }

    /// Adds the `triangle`'s weighted sums into rows `i * targetStride` of
    /// `targets` for every i < `length`, four targets at a time.
    @inline(__always)
    static func accumulateTriangle(_ triangle: Triangle, _ weights: UnsafePointer<Double>, length: Int,
                                   rows: UnsafePointer<Double>, rowStride: Int,
                                   into targets: UnsafeMutablePointer<Double>, targetStride: Int, headWidth: Int) {
        // Target i's weights are W's row i (lower) or column i (upper).
        let (chainStride, weightStride) = triangle == .lower ? (length, 1) : (1, length)
        var i = 0
        while i + 4 <= length {
            let (lowers, uppers) = triangle == .lower ? (SIMD4(repeating: 0), SIMD4(i + 1, i + 2, i + 3, i + 4))
                                                      : (SIMD4(i, i + 1, i + 2, i + 3), SIMD4(repeating: length))
            accumulateWeightedRows4(weights + i * chainStride, chainStride: chainStride, weightStride: weightStride,
                                    lowers: lowers, uppers: uppers, rows: rows, rowStride: rowStride,
                                    into: targets + i * targetStride, targetStride: targetStride, headWidth: headWidth)
            i += 4
        }
        while i < length {
            let (first, count) = triangle == .lower ? (0, i + 1) : (i, length - i)
            accumulateWeightedRows(weights + i * chainStride + first * weightStride, weightStride: weightStride, count: count,
                                   rows: rows + first * rowStride, rowStride: rowStride, into: targets + i * targetStride,
                                   headWidth: headWidth)
            i += 1
        }
    }

    /// Four weighted sums over shared rows at once, each exactly the one
    /// `accumulateWeightedRows` computes: chain j (0 ..< 4) adds, for u in
    /// `lowers[j] ..< uppers[j]` ascending, `weights[j * chainStride + u *
    /// weightStride] * rows[u * rowStride + d]` into `targets[j * targetStride + d]`.
    /// The u range every chain shares runs the four chains side by side (four
    /// independent dependency chains instead of one, and one load of each
    /// row); each chain's own u before and after it runs alone, in order.
    @inline(__always)
    static func accumulateWeightedRows4(_ weights: UnsafePointer<Double>, chainStride: Int, weightStride: Int,
                                        lowers: SIMD4<Int>, uppers: SIMD4<Int>,
                                        rows: UnsafePointer<Double>, rowStride: Int,
                                        into targets: UnsafeMutablePointer<Double>, targetStride: Int, headWidth: Int) {
        let commonLower = lowers.max(), commonUpper = uppers.min()
        @inline(__always) func alone(_ j: Int, _ range: Range<Int>) {
            guard !range.isEmpty else { return }
            accumulateWeightedRows(weights + j * chainStride + range.lowerBound * weightStride, weightStride: weightStride,
                                   count: range.count, rows: rows + range.lowerBound * rowStride, rowStride: rowStride,
                                   into: targets + j * targetStride, headWidth: headWidth)
        }
        guard commonLower < commonUpper else {
            for j in 0..<4 { alone(j, lowers[j]..<uppers[j]) }
            return
        }
        for j in 0..<4 { alone(j, lowers[j]..<commonLower) }
        let (w0, w1, w2, w3) = (weights, weights + chainStride, weights + 2 * chainStride, weights + 3 * chainStride)
        let (t0, t1, t2, t3) = (targets, targets + targetStride, targets + 2 * targetStride, targets + 3 * targetStride)
        var d = 0
        while d + 4 <= headWidth {
            @inline(__always) func load(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
                UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self)
            }
            var (sum0, sum1, sum2, sum3) = (load(t0 + d), load(t1 + d), load(t2 + d), load(t3 + d))
            for u in commonLower..<commonUpper {
                let row = load(rows + u * rowStride + d)
                sum0 += SIMD4(repeating: w0[u * weightStride]) * row
                sum1 += SIMD4(repeating: w1[u * weightStride]) * row
                sum2 += SIMD4(repeating: w2[u * weightStride]) * row
                sum3 += SIMD4(repeating: w3[u * weightStride]) * row
            }
            UnsafeMutableRawPointer(t0 + d).storeBytes(of: sum0, as: SIMD4<Double>.self)
            UnsafeMutableRawPointer(t1 + d).storeBytes(of: sum1, as: SIMD4<Double>.self)
            UnsafeMutableRawPointer(t2 + d).storeBytes(of: sum2, as: SIMD4<Double>.self)
            UnsafeMutableRawPointer(t3 + d).storeBytes(of: sum3, as: SIMD4<Double>.self)
            d += 4
        }
        for j in 0..<4 {
            let (w, t) = (weights + j * chainStride, targets + j * targetStride)
            for e in d..<headWidth {
                var sum = t[e]
                for u in commonLower..<commonUpper { sum += w[u * weightStride] * rows[u * rowStride + e] }
                t[e] = sum
            }
        }
        for j in 0..<4 { alone(j, commonUpper..<uppers[j]) }
    }
}
