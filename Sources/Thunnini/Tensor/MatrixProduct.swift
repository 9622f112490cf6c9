/// The one matrix-product kernel of the fast layers, and its scalar twin.
///
/// `C[r, c] += sum_k A[r, k] B[k, c]`, where every output element is updated
/// by exactly this sequence of operations, in this order:
///
///     acc = C[r, c];  for k in 0 ..< K { acc = acc + (A[r, k] * B[k, c]) };  C[r, c] = acc
///
/// (a separate multiply and add, never a fused multiply-add). The fast kernel
/// vectorises across columns c and blocks across rows r: both are independent
/// outputs, so the result is bit-identical to `accumulateReference` for every
/// shape (Docs/performance.md). Layers obtain the usual products by choosing
/// the initial C (zero, a bias, an earlier partial sum) and strides (a
/// transposed A is a row stride of 1).
public enum MatrixProduct {
    /// A read-only strided matrix: element (r, k) is `base[r * rowStride + k * innerStride]`.
    public struct Operand {
        public var base: UnsafePointer<Double>
        public var rowStride: Int
        public var innerStride: Int

        public init(_ base: UnsafePointer<Double>, rowStride: Int, innerStride: Int = 1) {
            self.base = base
            self.rowStride = rowStride
            self.innerStride = innerStride
        }

        @inline(__always) func at(_ r: Int, _ k: Int) -> Double { base[r * rowStride + k * innerStride] }
    }

    /// The readable specification: `C[r, c] += sum_k A[r, k] B[k, c]` in k order.
    /// `b` is row-major with row stride `bRowStride`; C's rows are `cRowStride` apart.
    /// With `startingFromZero`, each sum starts at +0.0 instead of C's value.
    public static func accumulateReference(rows: Int, inner: Int, columns: Int, a: Operand,
                                           b: UnsafePointer<Double>, bRowStride: Int,
                                           c: UnsafeMutablePointer<Double>, cRowStride: Int,
                                           startingFromZero: Bool = false) {
        for r in 0..<rows {
            for column in 0..<columns {
                var acc = startingFromZero ? 0 : c[r * cRowStride + column]
                for k in 0..<inner {
                    acc += a.at(r, k) * b[k * bRowStride + column]
                }
                c[r * cRowStride + column] = acc
            }
        }
    }

    /// The fast twin of `accumulateReference`: identical results bit for bit.
    ///
    /// The k range is cut into blocks of `innerBlock`, processed in k order
    /// (C holds each running sum between blocks, exactly as the scalar `acc`).
    /// Within a block, 8 columns of B are copied into a contiguous panel when
    /// that pays, and blocks of 6 (then 4, then 1) rows x 8 columns are kept
    /// in SIMD registers across the block's k loop; ragged edges use smaller
    /// blocks (2 rows, 1 row; 4 or 2 columns) with the same per-element operations.
    ///
    /// With `startingFromZero`, C's previous contents are not read (it may be
    /// uninitialized) and each sum starts at +0.0, exactly as if C held
    /// zeros: `C[r, c] = 0 + sum_k ...` in the same order.
    public static func accumulate(rows: Int, inner: Int, columns: Int, a: Operand,
                                  b: UnsafePointer<Double>, bRowStride: Int,
                                  c: UnsafeMutablePointer<Double>, cRowStride: Int,
                                  startingFromZero: Bool = false) {
        guard rows > 0, columns > 0 else { return }
        if inner == 0 {
            if startingFromZero {
                for r in 0..<rows { (c + r * cRowStride).update(repeating: 0, count: columns) }
            }
            return
        }
        // Packing copies values (no arithmetic); it pays when several row
        // blocks reuse a panel whose rows are far apart in memory. One panel
        // buffer serves every k block of the call.
        let pack = rows > 4 && bRowStride > 8 && min(inner, innerBlock) >= 32 && columns >= 8
        let panel: UnsafeMutablePointer<Double>? = pack ? .allocate(capacity: innerBlock * 8) : nil
        defer { panel?.deallocate() }
        var k0 = 0
        while k0 < inner {
            let depth = min(innerBlock, inner - k0)
            let aBlock = Operand(a.base + k0 * a.innerStride, rowStride: a.rowStride, innerStride: a.innerStride)
            accumulateBlock(rows: rows, inner: depth, columns: columns, a: aBlock, b: b + k0 * bRowStride,
                            bRowStride: bRowStride, c: c, cRowStride: cRowStride, panel: depth >= 32 ? panel : nil,
                            fromZero: startingFromZero && k0 == 0)
            k0 += depth
        }
    }

    /// Depth of a k block: a packed 8-column panel of it (16 KB) stays in L1.
    static let innerBlock = 256

    @inline(__always)
    static func accumulateBlock(rows: Int, inner: Int, columns: Int, a: Operand,
                                b: UnsafePointer<Double>, bRowStride: Int,
                                c: UnsafeMutablePointer<Double>, cRowStride: Int, panel: UnsafeMutablePointer<Double>?,
                                fromZero: Bool) {
        var column = 0
        while column + 8 <= columns {
            var panelBase = b + column
            var panelStride = bRowStride
            if let panel {
                for k in 0..<inner { store8(load8(b + k * bRowStride + column), panel + k * 8) }
                panelBase = UnsafePointer(panel)
                panelStride = 8
            }
            var r = 0
            while r + 6 <= rows {
                block6x8(r, inner, a, panelBase, panelStride, c + column, cRowStride, fromZero)
                r += 6
            }
            if r + 4 <= rows {
                block4x8(r, inner, a, panelBase, panelStride, c + column, cRowStride, fromZero)
                r += 4
            }
            // One to three rows left: two at a time (two chains per column
            // vector instead of one), then the last one.
            if r + 2 <= rows {
                block2x8(r, inner, a, panelBase, panelStride, c + column, cRowStride, fromZero)
                r += 2
            }
            if r < rows {
                block1x8(r, inner, a, panelBase, panelStride, c + column, cRowStride, fromZero)
            }
            column += 8
        }
        // Four of the last seven columns (a rank-4 LoRA factor is all of
        // this case): four rows at a time, then one by one.
        if column + 4 <= columns {
            var r = 0
            while r + 4 <= rows {
                block4x4(r, inner, a, b + column, bRowStride, c + column, cRowStride, fromZero)
                r += 4
            }
            while r < rows {
                block1x4(r, inner, a, b + column, bRowStride, c + column, cRowStride, fromZero)
                r += 1
            }
            column += 4
        }
        // Two of the last three columns (a two-token unembedding is all of
        // this case): four rows at a time, then one by one.
        if column + 2 <= columns {
            var r = 0
            while r + 4 <= rows {
                block4x2(r, inner, a, b + column, bRowStride, c + column, cRowStride, fromZero)
                r += 4
            }
            while r < rows {
                block1x2(r, inner, a, b + column, bRowStride, c + column, cRowStride, fromZero)
                r += 1
            }
            column += 2
        }
        while column < columns {
            for r in 0..<rows {
                var acc = fromZero ? 0 : c[r * cRowStride + column]
                for k in 0..<inner { acc += a.at(r, k) * b[k * bRowStride + column] }
                c[r * cRowStride + column] = acc
            }
            column += 1
        }
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Double>) -> SIMD8<Double> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
    }

    @inline(__always)
    static func store8(_ v: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Double>.self)
    }

    @inline(__always)
    static func block4x8(_ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>, _ bRowStride: Int,
                         _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int, _ fromZero: Bool) {
        let c0 = c + r * cRowStride, c1 = c0 + cRowStride, c2 = c1 + cRowStride, c3 = c2 + cRowStride
        var (acc0, acc1) = fromZero ? (SIMD8<Double>(), SIMD8<Double>()) : (load8(c0), load8(c1))
        var (acc2, acc3) = fromZero ? (SIMD8<Double>(), SIMD8<Double>()) : (load8(c2), load8(c3))
        var a0 = a.base + r * a.rowStride
        var a1 = a0 + a.rowStride, a2 = a1 + a.rowStride, a3 = a2 + a.rowStride
        var bRow = b
        for _ in 0..<inner {
            let bv = load8(bRow)
            acc0 += SIMD8(repeating: a0.pointee) * bv
            acc1 += SIMD8(repeating: a1.pointee) * bv
            acc2 += SIMD8(repeating: a2.pointee) * bv
            acc3 += SIMD8(repeating: a3.pointee) * bv
            a0 += a.innerStride; a1 += a.innerStride; a2 += a.innerStride; a3 += a.innerStride
            bRow += bRowStride
        }
        store8(acc0, c0); store8(acc1, c1); store8(acc2, c2); store8(acc3, c3)
    }

    /// Six rows x eight columns: twelve AVX2 accumulators, the most the
    /// sixteen registers hold beside the B row and a broadcast A value.
    @inline(__always)
    static func block6x8(_ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>, _ bRowStride: Int,
                         _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int, _ fromZero: Bool) {
        let c0 = c + r * cRowStride, c1 = c0 + cRowStride, c2 = c1 + cRowStride, c3 = c2 + cRowStride
        let c4 = c3 + cRowStride, c5 = c4 + cRowStride
        var (acc0, acc1, acc2) = fromZero ? (SIMD8<Double>(), SIMD8<Double>(), SIMD8<Double>()) : (load8(c0), load8(c1), load8(c2))
        var (acc3, acc4, acc5) = fromZero ? (SIMD8<Double>(), SIMD8<Double>(), SIMD8<Double>()) : (load8(c3), load8(c4), load8(c5))
        var a0 = a.base + r * a.rowStride
        let rowStride = a.rowStride
        var bRow = b
        for _ in 0..<inner {
            let bv = load8(bRow)
            acc0 += SIMD8(repeating: a0.pointee) * bv
            acc1 += SIMD8(repeating: a0[rowStride]) * bv
            acc2 += SIMD8(repeating: a0[2 * rowStride]) * bv
            acc3 += SIMD8(repeating: a0[3 * rowStride]) * bv
            acc4 += SIMD8(repeating: a0[4 * rowStride]) * bv
            acc5 += SIMD8(repeating: a0[5 * rowStride]) * bv
            a0 += a.innerStride
            bRow += bRowStride
        }
        store8(acc0, c0); store8(acc1, c1); store8(acc2, c2); store8(acc3, c3); store8(acc4, c4); store8(acc5, c5)
    }

    @inline(__always)
    static func block1x8(_ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>, _ bRowStride: Int,
                         _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int, _ fromZero: Bool) {
        let c0 = c + r * cRowStride
        var acc0 = fromZero ? SIMD8<Double>() : load8(c0)
        var a0 = a.base + r * a.rowStride
        var bRow = b
        for _ in 0..<inner {
            acc0 += SIMD8(repeating: a0.pointee) * load8(bRow)
            a0 += a.innerStride
            bRow += bRowStride
        }
        store8(acc0, c0)
    }

    @inline(__always)
    static func block2x8(_ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>, _ bRowStride: Int,
                         _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int, _ fromZero: Bool) {
        let c0 = c + r * cRowStride, c1 = c0 + cRowStride
        var (acc0, acc1) = fromZero ? (SIMD8<Double>(), SIMD8<Double>()) : (load8(c0), load8(c1))
        var a0 = a.base + r * a.rowStride
        let rowStride = a.rowStride
        var bRow = b
        for _ in 0..<inner {
            let bv = load8(bRow)
            acc0 += SIMD8(repeating: a0.pointee) * bv
            acc1 += SIMD8(repeating: a0[rowStride]) * bv
            a0 += a.innerStride
            bRow += bRowStride
        }
        store8(acc0, c0); store8(acc1, c1)
    }

    @inline(__always)
    static func load2(_ p: UnsafePointer<Double>) -> SIMD2<Double> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD2<Double>.self)
    }

    @inline(__always)
    static func store2(_ v: SIMD2<Double>, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD2<Double>.self)
    }

    @inline(__always)
    static func load4(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self)
    }

    @inline(__always)
    static func store4(_ v: SIMD4<Double>, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Double>.self)
    }

    /// Four rows x four columns: four independent chains.
    @inline(__always)
    static func block4x4(_ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>, _ bRowStride: Int,
                         _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int, _ fromZero: Bool) {
        let c0 = c + r * cRowStride, c1 = c0 + cRowStride, c2 = c1 + cRowStride, c3 = c2 + cRowStride
        var (acc0, acc1) = fromZero ? (SIMD4<Double>(), SIMD4<Double>()) : (load4(c0), load4(c1))
        var (acc2, acc3) = fromZero ? (SIMD4<Double>(), SIMD4<Double>()) : (load4(c2), load4(c3))
        var a0 = a.base + r * a.rowStride
        let rowStride = a.rowStride
        var bRow = b
        for _ in 0..<inner {
            let bv = load4(bRow)
            acc0 += SIMD4(repeating: a0.pointee) * bv
            acc1 += SIMD4(repeating: a0[rowStride]) * bv
            acc2 += SIMD4(repeating: a0[2 * rowStride]) * bv
            acc3 += SIMD4(repeating: a0[3 * rowStride]) * bv
            a0 += a.innerStride
            bRow += bRowStride
        }
        store4(acc0, c0); store4(acc1, c1); store4(acc2, c2); store4(acc3, c3)
    }

    /// Four rows x two columns: four independent chains.
    @inline(__always)
    static func block4x2(_ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>, _ bRowStride: Int,
                         _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int, _ fromZero: Bool) {
        let c0 = c + r * cRowStride, c1 = c0 + cRowStride, c2 = c1 + cRowStride, c3 = c2 + cRowStride
        var (acc0, acc1) = fromZero ? (SIMD2<Double>(), SIMD2<Double>()) : (load2(c0), load2(c1))
        var (acc2, acc3) = fromZero ? (SIMD2<Double>(), SIMD2<Double>()) : (load2(c2), load2(c3))
        var a0 = a.base + r * a.rowStride
        let rowStride = a.rowStride
        var bRow = b
        for _ in 0..<inner {
            let bv = load2(bRow)
            acc0 += SIMD2(repeating: a0.pointee) * bv
            acc1 += SIMD2(repeating: a0[rowStride]) * bv
            acc2 += SIMD2(repeating: a0[2 * rowStride]) * bv
            acc3 += SIMD2(repeating: a0[3 * rowStride]) * bv
            a0 += a.innerStride
            bRow += bRowStride
        }
        store2(acc0, c0); store2(acc1, c1); store2(acc2, c2); store2(acc3, c3)
    }

    @inline(__always)
    static func block1x2(_ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>, _ bRowStride: Int,
                         _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int, _ fromZero: Bool) {
        let c0 = c + r * cRowStride
        var acc0 = fromZero ? SIMD2<Double>() : load2(c0)
        var a0 = a.base + r * a.rowStride
        var bRow = b
        for _ in 0..<inner {
            acc0 += SIMD2(repeating: a0.pointee) * load2(bRow)
            a0 += a.innerStride
            bRow += bRowStride
        }
        store2(acc0, c0)
    }

    @inline(__always)
    static func block1x4(_ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>, _ bRowStride: Int,
                         _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int, _ fromZero: Bool) {
        let c0 = c + r * cRowStride
        var acc0 = fromZero ? SIMD4<Double>() : UnsafeRawPointer(c0).loadUnaligned(as: SIMD4<Double>.self)
        var a0 = a.base + r * a.rowStride
        var bRow = b
        for _ in 0..<inner {
            acc0 += SIMD4(repeating: a0.pointee) * UnsafeRawPointer(bRow).loadUnaligned(as: SIMD4<Double>.self)
            a0 += a.innerStride
            bRow += bRowStride
        }
        UnsafeMutableRawPointer(c0).storeBytes(of: acc0, as: SIMD4<Double>.self)
    }
}
