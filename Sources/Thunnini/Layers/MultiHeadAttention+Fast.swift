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

    /// The merged heads `[B, L, E]` of `attendFast` alone, for a forward
    /// pass without a backward pass: each thread's probabilities of one
    /// (sequence, head) at a time go to an L x L buffer of its own instead of
    /// a `[B, H, L, L]` tensor (2.6 GB at 2048 x 4 x 201 x 201). The same
    /// operations on every output, so the same bits.
    static func attendFastMergedOnly(q: Tensor, k: Tensor, v: Tensor, headCount: Int) -> Tensor {
        let (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2])
        return Tensor(shape: [batch, length, width]) { mP in
            attendFast(q: q, k: k, v: v, headCount: headCount, probabilities: nil, merged: mP)
        }
    }

    /// With `probabilities` nil, each thread writes one head's probabilities
    /// at a time into a buffer of its own (`attendFastMergedOnly`).
    static func attendFast(q: Tensor, k: Tensor, v: Tensor, headCount: Int,
                           probabilities pP: UnsafeMutablePointer<Double>?, merged mP: UnsafeMutablePointer<Double>) {
        let (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2])
        let headWidth = width / headCount
        let inverseSqrtHeadWidth = 1 / Double(headWidth).squareRoot()
        q.withPointer { qP in k.withPointer { kP in v.withPointer { vP in
            let (pShared, mShared) = (pP.map(SharedPointer.init), SharedPointer(mP))
            Parallel.forEachChunk(of: batch) { chunk in
                let merged = mShared.base
                let ownHead: UnsafeMutablePointer<Double>? = pShared == nil ? .allocate(capacity: max(1, length * length)) : nil
                defer { ownHead?.deallocate() }
                let keysTransposed = UnsafeMutablePointer<Double>.allocate(capacity: max(1, headWidth * length))
                // One head's shifted scores `score - largest`, row t's t + 1
                // of them after the rows before it: the causal triangle packed,
                // so that one exp call covers it in whole sixteen-lane vectors
                // (row by row, every row's last vector was part padding).
                let triangle = UnsafeMutablePointer<Double>.allocate(capacity: max(1, length * (length + 1) / 2))
                let totals = UnsafeMutablePointer<Double>.allocate(capacity: max(1, length))
                defer { keysTransposed.deallocate(); triangle.deallocate(); totals.deallocate() }
                for b in chunk {
                    for h in 0..<headCount {
                        let headOffset = h * headWidth
                        transposeHead(kP, b: b, headOffset: headOffset, length: length, width: width,
                                      headWidth: headWidth, into: keysTransposed)
                        let headScores = pShared.map { $0.base + (b * headCount + h) * length * length } ?? ownHead!
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
                        rowTotals(triangle, length: length, into: totals)
                        rowStart = 0
                        for t in 0..<length {
                            let qRow = (b * length + t) * width + headOffset
                            let (scores, exps, total) = (headScores + t * length, triangle + rowStart, totals[t])
                            for s in 0...t { scores[s] = exps[s] / total }
                            // The causal mask, in the probabilities tensor (a
                            // thread's own buffer is read only up to the diagonal).
                            if pShared != nil { (scores + t + 1).update(repeating: 0, count: length - t - 1) }
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

    /// `totals[t]` = the sum over s <= t, in s order from +0.0, of row t
    /// of the packed `triangle` (row t's t + 1 values after the rows before
    /// it), as the scalar softmax adds its exponentials. Four rows at a
    /// time: their sums over the s they share run side by side (four
    /// independent chains instead of one), then each row's last values.
    @inline(__always)
    static func rowTotals(_ triangle: UnsafePointer<Double>, length: Int, into totals: UnsafeMutablePointer<Double>) {
        var t = 0
        var rowStart = 0
        while t + 4 <= length {
            let e0 = triangle + rowStart, e1 = e0 + t + 1, e2 = e1 + t + 2, e3 = e2 + t + 3
            var (total0, total1, total2, total3) = (0.0, 0.0, 0.0, 0.0)
            for s in 0...t {
                total0 += e0[s]; total1 += e1[s]; total2 += e2[s]; total3 += e3[s]
            }
            total1 += e1[t + 1]
            total2 += e2[t + 1]; total2 += e2[t + 2]
            total3 += e3[t + 1]; total3 += e3[t + 2]; total3 += e3[t + 3]
            totals[t] = total0; totals[t + 1] = total1; totals[t + 2] = total2; totals[t + 3] = total3
            rowStart += 4 * t + 10
            t += 4
        }
        while t < length {
            var total = 0.0
            for s in 0...t { total += triangle[rowStart + s] }
            totals[t] = total
            rowStart += t + 1
            t += 1
        }
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
    /// `s < count` (each sum from zero, as the scalar loop): thirty-two keys
    /// at a time in four eight-lane accumulators (eight independent chains
    /// of vector adds, enough to keep both adders busy while each add waits
    /// for the one before it in its chain), then eight, four, one.
    @inline(__always)
    static func dotProducts(query: UnsafePointer<Double>, keysTransposed: UnsafePointer<Double>, length: Int,
                            headWidth: Int, count: Int, scale: Double?, into out: UnsafeMutablePointer<Double>) {
        @inline(__always) func load8(_ p: UnsafePointer<Double>) -> SIMD8<Double> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
        }
        @inline(__always) func store8(_ v: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Double>.self)
        }
        var s = 0
        while s + 32 <= count {
            var (score0, score1, score2, score3) = (SIMD8<Double>(), SIMD8<Double>(), SIMD8<Double>(), SIMD8<Double>())
            var keys = keysTransposed + s
            for d in 0..<headWidth {
                let q = SIMD8(repeating: query[d])
                score0 += q * load8(keys)
                score1 += q * load8(keys + 8)
                score2 += q * load8(keys + 16)
                score3 += q * load8(keys + 24)
                keys += length
            }
            if let scale { score0 *= scale; score1 *= scale; score2 *= scale; score3 *= scale }
            store8(score0, out + s); store8(score1, out + s + 8); store8(score2, out + s + 16); store8(score3, out + s + 24)
            s += 32
        }
        while s + 8 <= count {
            var score = SIMD8<Double>()
            for d in 0..<headWidth { score += SIMD8(repeating: query[d]) * load8(keysTransposed + d * length + s) }
            if let scale { score *= scale }
            store8(score, out + s)
            s += 8
        }
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
        // Features d ..< d + V.scalarCount of the four chains, over the shared u range.
        @inline(__always) func fourChains<V: SIMD>(_ width: V.Type, at d: Int) where V.Scalar == Double {
            var (sum0, sum1, sum2, sum3): (V, V, V, V) = (MatrixProduct.loadVector(t0 + d), MatrixProduct.loadVector(t1 + d),
                                                          MatrixProduct.loadVector(t2 + d), MatrixProduct.loadVector(t3 + d))
            for u in commonLower..<commonUpper {
                let row: V = MatrixProduct.loadVector(rows + u * rowStride + d)
                sum0 += V(repeating: w0[u * weightStride]) * row
                sum1 += V(repeating: w1[u * weightStride]) * row
                sum2 += V(repeating: w2[u * weightStride]) * row
                sum3 += V(repeating: w3[u * weightStride]) * row
            }
            MatrixProduct.storeVector(sum0, t0 + d)
            MatrixProduct.storeVector(sum1, t1 + d)
            MatrixProduct.storeVector(sum2, t2 + d)
            MatrixProduct.storeVector(sum3, t3 + d)
        }
        var d = 0
        // Eight features per chain first (eight independent chains of
        // four-lane adds), then four.
        while d + 8 <= headWidth {
            fourChains(SIMD8<Double>.self, at: d)
            d += 8
        }
        while d + 4 <= headWidth {
            fourChains(SIMD4<Double>.self, at: d)
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
