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
    /// With `startingFromZero`, each sum starts at +0.0 instead of C's value;
    /// with `startingFromRow`, at `startingFromRow[column]` (a bias shared by
    /// every row of C).
    public static func accumulateReference(rows: Int, inner: Int, columns: Int, a: Operand,
                                           b: UnsafePointer<Double>, bRowStride: Int,
                                           c: UnsafeMutablePointer<Double>, cRowStride: Int,
                                           startingFromZero: Bool = false, startingFromRow: UnsafePointer<Double>? = nil) {
        for r in 0..<rows {
            for column in 0..<columns {
                var acc = startingFromRow?[column] ?? (startingFromZero ? 0 : c[r * cRowStride + column])
                for k in 0..<inner {
                    acc += a.at(r, k) * b[k * bRowStride + column]
                }
                c[r * cRowStride + column] = acc
            }
        }
    }

    /// A B matrix prepared once for many products with it (an LSTM's
    /// kernels, the same at every time step): a row-major copy, and its
    /// 8-column panels copied k block by k block as `accumulate` would copy
    /// them in every call. Copies only: a product with it computes what the
    /// same product with the original B computes, bit for bit.
    public final class PackedB: @unchecked Sendable {
        /// B's rows (the product's inner length) and columns.
        public let inner: Int
        public let columns: Int
        /// `[inner, columns]`, row-major (the last columns are read from here).
        let rows: UnsafeMutablePointer<Double>
        /// For the k block starting at k0 (depth d), panel p's values at
        /// `panels + k0 * 8 * (columns / 8) + (p * d + k) * 8 + j`.
        let panels: UnsafeMutablePointer<Double>

        /// Copies `b` (`inner` rows of `columns` values, `bRowStride` apart).
        public init(_ b: UnsafePointer<Double>, inner: Int, columns: Int, bRowStride: Int) {
            precondition(inner >= 0 && columns >= 0 && bRowStride >= columns, "PackedB: bad shape")
            self.inner = inner
            self.columns = columns
            rows = .allocate(capacity: max(1, inner * columns))
            for k in 0..<inner { (rows + k * columns).update(from: b + k * bRowStride, count: columns) }
            panels = MatrixProduct.packedPanels(b, inner: inner, columns: columns, bRowStride: bRowStride)
        }

        deinit {
            rows.deallocate()
            panels.deallocate()
        }
    }

    /// B's 8-column panels copied k block by k block, as `accumulate`
    /// copies them in each call (see `PackedB.panels` for the layout), into
    /// new memory the caller deallocates. B's rows are read in order (each
    /// row's panels in one sweep, which the hardware prefetches), not down
    /// each panel's column of rows a page apart.
    static func packedPanels(_ b: UnsafePointer<Double>, inner: Int, columns: Int,
                             bRowStride: Int) -> UnsafeMutablePointer<Double> {
        let panelCount = columns / 8
        let panels = UnsafeMutablePointer<Double>.allocate(capacity: max(1, inner * panelCount * 8))
        var k0 = 0
        while k0 < inner {
            let depth = min(innerBlock, inner - k0)
            let block = panels + k0 * 8 * panelCount
            for k in 0..<depth {
                let source = b + (k0 + k) * bRowStride
                for panel in 0..<panelCount {
                    storeVector(loadVector(source + panel * 8) as SIMD8<Double>, block + (panel * depth + k) * 8)
                }
            }
            k0 += depth
        }
        return panels
    }

    /// Whether a product with `rows` rows (in several calls of `accumulate`
    /// on blocks of them, on several threads) should read B's panels from
    /// one copy made before them (`packedPanels`) instead of each call
    /// copying them again: when a call would copy them (a B of at least
    /// one panel, rows far apart, k blocks of 32 or more), and there are
    /// more rows than one block of 64.
    static func sharesPackedPanels(rows: Int, inner: Int, columns: Int) -> Bool {
        rows > 64 && columns > 8 && min(inner, innerBlock) >= 32
    }

    /// `accumulate` with B's panels copied once by `packedPanels` (or nil:
    /// copied by the call as it sees fit); the same results bit for bit.
    static func accumulate(rows: Int, inner: Int, columns: Int, a: Operand,
                           b: UnsafePointer<Double>, bRowStride: Int,
                           c: UnsafeMutablePointer<Double>, cRowStride: Int,
                           startingFromZero: Bool = false, startingFromRow: UnsafePointer<Double>? = nil,
                           packedPanels: UnsafePointer<Double>?) {
        accumulate(rows: rows, inner: inner, columns: columns, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride,
                   startingFromZero: startingFromZero, startingFromRow: startingFromRow, prepared: packedPanels)
    }

    /// `accumulate` with a prepared B: the same results as
    /// `accumulate(..., b: <B>, ...)` bit for bit, without copying B's panels
    /// in this call.
    public static func accumulate(rows: Int, a: Operand, packed: PackedB, c: UnsafeMutablePointer<Double>, cRowStride: Int,
                                  startingFromZero: Bool = false, startingFromRow: UnsafePointer<Double>? = nil) {
        accumulate(rows: rows, inner: packed.inner, columns: packed.columns, a: a, b: packed.rows, bRowStride: packed.columns,
                   c: c, cRowStride: cRowStride, startingFromZero: startingFromZero, startingFromRow: startingFromRow,
                   prepared: packed.panels)
    }

    /// The fast twin of `accumulateReference`: identical results bit for bit.
    ///
    /// The k range is cut into blocks of `innerBlock`, processed in k order
    /// (C holds each running sum between blocks, exactly as the scalar `acc`).
    /// Within a block, the 8-column panels of B go in groups (`panelGroup`);
    /// a group's panels are copied into contiguous memory when that pays, and
    /// for each block of 6 (then 4, 2, 1) rows the group's panels are swept
    /// left to right, each 6 x 8 block kept in SIMD registers across the k
    /// loop. Ragged edges use smaller blocks (2 rows, 1 row; 4 or 2 columns)
    /// with the same per-element operations.
    ///
    /// With `startingFromZero`, C's previous contents are not read (it may be
    /// uninitialized) and each sum starts at +0.0, exactly as if C held
    /// zeros: `C[r, c] = 0 + sum_k ...` in the same order. With
    /// `startingFromRow`, likewise C is not read and each sum starts at
    /// `startingFromRow[c]`, exactly as if every row of C held that row.
    public static func accumulate(rows: Int, inner: Int, columns: Int, a: Operand,
                                  b: UnsafePointer<Double>, bRowStride: Int,
                                  c: UnsafeMutablePointer<Double>, cRowStride: Int,
                                  startingFromZero: Bool = false, startingFromRow: UnsafePointer<Double>? = nil) {
        accumulate(rows: rows, inner: inner, columns: columns, a: a, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride,
                   startingFromZero: startingFromZero, startingFromRow: startingFromRow, prepared: nil)
    }

    /// `accumulate`, with B's panels already copied (`PackedB.panels`) or not.
    static func accumulate(rows: Int, inner: Int, columns: Int, a: Operand,
                           b: UnsafePointer<Double>, bRowStride: Int,
                           c: UnsafeMutablePointer<Double>, cRowStride: Int,
                           startingFromZero: Bool, startingFromRow: UnsafePointer<Double>?,
                           prepared: UnsafePointer<Double>?) {
        guard rows > 0, columns > 0 else { return }
        if inner == 0 {
            for r in 0..<rows {
                if let startingFromRow {
                    (c + r * cRowStride).update(from: startingFromRow, count: columns)
                } else if startingFromZero {
                    (c + r * cRowStride).update(repeating: 0, count: columns)
                }
            }
            return
        }
        let start = Start(zero: startingFromZero, row: startingFromRow)
        // Packing copies values (no arithmetic); it pays when several row
        // blocks reuse a panel whose rows are far apart in memory. One
        // buffer for a group of panels serves every k block of the call.
        let pack = prepared == nil && rows > 4 && bRowStride > 8 && min(inner, innerBlock) >= 32 && columns >= 8
        // A group holds depth x 8 x panelGroup(depth) <= min(2048, depth x
        // panels) x 8 values for every block's depth (at most the first's).
        let panel: UnsafeMutablePointer<Double>? =
            pack ? .allocate(capacity: 8 * min(2048, min(inner, innerBlock) * (columns / 8))) : nil
        // A transposed (row stride 1, as x in a weight gradient x^T dy), with
        // at most `transposedRowLimit` rows: every 6-row block's values of a
        // k block copied at once, k-major, reading A's memory in order (each
        // cache line once) instead of down its columns for every row block.
        let transposedBlocks = a.rowStride == 1 && rows <= transposedRowLimit ? rows / 6 : 0
        let transposed: UnsafeMutablePointer<Double>? =
            transposedBlocks > 0 ? .allocate(capacity: transposedBlocks * 6 * min(inner, innerBlock)) : nil
        // Otherwise six rows of A, k-major, for the 6 x 8 blocks of a group
        // of eight or more panels (`block6x8Packed`), one block at a time.
        let sixRows: UnsafeMutablePointer<Double>? =
            transposed == nil && rows >= 6 && columns >= 64 ? .allocate(capacity: 6 * min(inner, innerBlock)) : nil
        defer { panel?.deallocate(); sixRows?.deallocate(); transposed?.deallocate() }
        var k0 = 0
        while k0 < inner {
            let depth = min(innerBlock, inner - k0)
            let aBlock = Operand(a.base + k0 * a.innerStride, rowStride: a.rowStride, innerStride: a.innerStride)
            if let transposed {
                for k in 0..<depth {
                    var source = aBlock.base + k * a.innerStride
                    var destination = transposed + k * 6
                    for _ in 0..<transposedBlocks {
                        storeVector(loadVector(source) as SIMD4<Double>, destination)
                        storeVector(loadVector(source + 4) as SIMD2<Double>, destination + 4)
                        source += 6
                        destination += 6 * depth
                    }
                }
            }
            accumulateBlock(rows: rows, inner: depth, columns: columns, a: aBlock, b: b + k0 * bRowStride,
                            bRowStride: bRowStride, c: c, cRowStride: cRowStride, panel: depth >= 32 ? panel : nil,
                            prepared: prepared.map { $0 + k0 * 8 * (columns / 8) }, sixRows: sixRows,
                            transposed: transposed.map { UnsafePointer($0) }, start: k0 == 0 ? start : .fromC)
            k0 += depth
        }
    }

    /// The most rows of a transposed A copied per k block (256 KB at 128 rows).
    static let transposedRowLimit = 512

    /// Depth of a k block: a packed 8-column panel of it (16 KB) stays in L1.
    static let innerBlock = 256

    /// 8-column panels per group: at most as many as fit in 128 KB at this
    /// depth (a quarter of the machine's L2), at least one, and the panels
    /// shared evenly among the fewest such groups (32 panels at a limit of
    /// 25 go as 16 + 16, not 25 + 7: a small last group would not pay for
    /// its copy of A's rows).
    static func panelGroup(depth: Int, columns: Int) -> Int {
        let panels = max(1, columns / 8)
        let limit = max(1, min(panels, 2048 / max(1, depth)))
        let groups = (panels + limit - 1) / limit
        return (panels + groups - 1) / groups
    }

    @inline(__always)
    static func accumulateBlock(rows: Int, inner: Int, columns: Int, a: Operand,
                                b: UnsafePointer<Double>, bRowStride: Int,
                                c: UnsafeMutablePointer<Double>, cRowStride: Int, panel: UnsafeMutablePointer<Double>?,
                                prepared: UnsafePointer<Double>?, sixRows: UnsafeMutablePointer<Double>?,
                                transposed: UnsafePointer<Double>?, start: Start) {
        // Groups of panels, each swept by every row block in turn: a row
        // block writes its rows of C over the whole group left to right
        // (consecutive addresses, which the hardware prefetches, where C is
        // memory not yet in cache, like the LSTM's time-major cache), while
        // the group's panels stay in L2 for the next row block.
        let panels = columns / 8
        let group = panelGroup(depth: inner, columns: columns)
        var firstPanel = 0
        while firstPanel < panels {
            let lastPanel = min(panels, firstPanel + group)
            var panelBase = b + firstPanel * 8
            var panelStride = bRowStride
            var panelDistance = 8    // from one panel of the group to the next
            if let prepared {
                panelBase = prepared + firstPanel * inner * 8
                panelStride = 8
                panelDistance = inner * 8
            } else if let panel {
                // B's rows read in order (each k's columns of the group in
                // one sweep, which the hardware prefetches), not down each
                // panel's column of rows a page apart.
                let groupWidth = lastPanel - firstPanel
                for k in 0..<inner {
                    let source = b + k * bRowStride + firstPanel * 8
                    var destination = panel + k * 8
                    for index in 0..<groupWidth {
                        storeVector(loadVector(source + index * 8) as SIMD8<Double>, destination)
                        destination += inner * 8
                    }
                }
                panelBase = UnsafePointer(panel)
                panelStride = 8
                panelDistance = inner * 8
            }
            @inline(__always) func sweep(_ body: (_ panelB: UnsafePointer<Double>, _ column: Int) -> Void) {
                for index in 0..<(lastPanel - firstPanel) {
                    body(panelBase + index * panelDistance, (firstPanel + index) * 8)
                }
            }
            var r = 0
            while r + 6 <= rows {
                if let transposed {
                    // This block's six rows, copied k-major with the others.
                    let blockA = transposed + (r / 6) * 6 * inner
                    sweep { panelB, column in
                        block6x8Packed(inner, blockA, panelB, panelStride, c + r * cRowStride + column, cRowStride,
                                       start.shifted(column))
                    }
                } else if let sixRows, lastPanel - firstPanel >= 8 {
                    // The block's six rows of A copied once, k-major, for
                    // the group's panels: one pointer with fixed offsets
                    // instead of six strided rows, five instructions fewer
                    // per k (the copy costs about as much as five panels
                    // save, hence eight or more).
                    for k in 0..<inner {
                        for i in 0..<6 { sixRows[k &* 6 &+ i] = a.at(r &+ i, k) }
                    }
                    sweep { panelB, column in
                        block6x8Packed(inner, sixRows, panelB, panelStride, c + r * cRowStride + column, cRowStride,
                                       start.shifted(column))
                    }
                } else {
                    sweep { panelB, column in
                        block6x8(r, inner, a, panelB, panelStride, c + column, cRowStride, start.shifted(column))
                    }
                }
                r += 6
            }
            if r + 4 <= rows {
                sweep { panelB, column in
                    block4Rows(SIMD8<Double>.self, r, inner, a, panelB, panelStride, c + column, cRowStride, start.shifted(column))
                }
                r += 4
            }
            // One to three rows left: two at a time (two chains per column
            // vector instead of one), then the last one.
            if r + 2 <= rows {
                sweep { panelB, column in
                    block2Rows(SIMD8<Double>.self, r, inner, a, panelB, panelStride, c + column, cRowStride, start.shifted(column))
                }
                r += 2
            }
            if r < rows {
                sweep { panelB, column in
                    block1Row(SIMD8<Double>.self, r, inner, a, panelB, panelStride, c + column, cRowStride, start.shifted(column))
                }
            }
            firstPanel = lastPanel
        }
        var column = panels * 8
        // The last columns: a group of four (a rank-4 LoRA factor), then of
        // two (a two-token unembedding, and its weight gradient over every
        // row), four rows at a time, then one by one.
        @inline(__always) func lastColumns<V: SIMD>(_ vector: V.Type) where V.Scalar == Double {
            var r = 0
            while r + 4 <= rows {
                block4Rows(V.self, r, inner, a, b + column, bRowStride, c + column, cRowStride, start.shifted(column))
                r += 4
            }
            while r < rows {
                block1Row(V.self, r, inner, a, b + column, bRowStride, c + column, cRowStride, start.shifted(column))
                r += 1
            }
            column += V.scalarCount
        }
        if column + 4 <= columns { lastColumns(SIMD4<Double>.self) }
        if column + 2 <= columns { lastColumns(SIMD2<Double>.self) }
        while column < columns {
            for r in 0..<rows {
                var acc = start.shifted(column).scalar(c + r * cRowStride + column)
                for k in 0..<inner { acc += a.at(r, k) * b[k * bRowStride + column] }
                c[r * cRowStride + column] = acc
            }
            column += 1
        }
    }

    /// `block6x8` with its six rows of A packed k-major (`a[6 k + i]` is
    /// row i's k-th value): the same operations on every output.
    @inline(__always)
    static func block6x8Packed(_ inner: Int, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ bRowStride: Int,
                               _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int, _ start: Start) {
        let c0 = c, c1 = c0 + cRowStride, c2 = c1 + cRowStride, c3 = c2 + cRowStride
        let c4 = c3 + cRowStride, c5 = c4 + cRowStride
        var (acc0, acc1, acc2): (SIMD8<Double>, SIMD8<Double>, SIMD8<Double>) = (start.value(c0), start.value(c1), start.value(c2))
        var (acc3, acc4, acc5): (SIMD8<Double>, SIMD8<Double>, SIMD8<Double>) = (start.value(c3), start.value(c4), start.value(c5))
        var aK = a
        var bRow = b
        for _ in 0..<inner {
            let bv: SIMD8<Double> = loadVector(bRow)
            acc0 += SIMD8(repeating: aK[0]) * bv
            acc1 += SIMD8(repeating: aK[1]) * bv
            acc2 += SIMD8(repeating: aK[2]) * bv
            acc3 += SIMD8(repeating: aK[3]) * bv
            acc4 += SIMD8(repeating: aK[4]) * bv
            acc5 += SIMD8(repeating: aK[5]) * bv
            aK += 6
            bRow += bRowStride
        }
        storeVector(acc0, c0); storeVector(acc1, c1); storeVector(acc2, c2)
        storeVector(acc3, c3); storeVector(acc4, c4); storeVector(acc5, c5)
    }

    /// Six rows x eight columns: twelve AVX2 accumulators, the most the
    /// sixteen registers hold beside the B row and a broadcast A value.
    @inline(__always)
    static func block6x8(_ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>, _ bRowStride: Int,
                         _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int, _ start: Start) {
        let c0 = c + r * cRowStride, c1 = c0 + cRowStride, c2 = c1 + cRowStride, c3 = c2 + cRowStride
        let c4 = c3 + cRowStride, c5 = c4 + cRowStride
        var (acc0, acc1, acc2): (SIMD8<Double>, SIMD8<Double>, SIMD8<Double>) = (start.value(c0), start.value(c1), start.value(c2))
        var (acc3, acc4, acc5): (SIMD8<Double>, SIMD8<Double>, SIMD8<Double>) = (start.value(c3), start.value(c4), start.value(c5))
        var a0 = a.base + r * a.rowStride
        let rowStride = a.rowStride
        var bRow = b
        for _ in 0..<inner {
            let bv: SIMD8<Double> = loadVector(bRow)
            acc0 += SIMD8(repeating: a0.pointee) * bv
            acc1 += SIMD8(repeating: a0[rowStride]) * bv
            acc2 += SIMD8(repeating: a0[2 * rowStride]) * bv
            acc3 += SIMD8(repeating: a0[3 * rowStride]) * bv
            acc4 += SIMD8(repeating: a0[4 * rowStride]) * bv
            acc5 += SIMD8(repeating: a0[5 * rowStride]) * bv
            a0 += a.innerStride
            bRow += bRowStride
        }
        storeVector(acc0, c0); storeVector(acc1, c1); storeVector(acc2, c2)
        storeVector(acc3, c3); storeVector(acc4, c4); storeVector(acc5, c5)
    }

    /// Two rows x the width of `V`: two independent chains per column vector.
    @inline(__always)
    static func block2Rows<V: SIMD>(_ width: V.Type, _ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>,
                                    _ bRowStride: Int, _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int,
                                    _ start: Start) where V.Scalar == Double {
        let (c0, c1) = (c + r * cRowStride, c + (r + 1) * cRowStride)
        var (first, second): (V, V) = (start.value(c0), start.value(c1))
        var (row0, row1) = (a.base + r * a.rowStride, a.base + (r + 1) * a.rowStride)
        var bRow = b
        for _ in 0..<inner {
            let bv: V = loadVector(bRow)
            first += V(repeating: row0.pointee) * bv
            second += V(repeating: row1.pointee) * bv
            row0 += a.innerStride
            row1 += a.innerStride
            bRow += bRowStride
        }
        storeVector(first, c0)
        storeVector(second, c1)
    }

    @inline(__always)
    static func loadVector<V: SIMD>(_ p: UnsafePointer<Double>) -> V where V.Scalar == Double {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func storeVector<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Double>) where V.Scalar == Double {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Four rows x the width of `V` (8 columns of a panel, or the last 4 or
    /// 2 columns of a product): four independent chains.
    @inline(__always)
    static func block4Rows<V: SIMD>(_ width: V.Type, _ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>,
                                    _ bRowStride: Int, _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int,
                                    _ start: Start) where V.Scalar == Double {
        let c0 = c + r * cRowStride, c1 = c0 + cRowStride, c2 = c1 + cRowStride, c3 = c2 + cRowStride
        var (acc0, acc1): (V, V) = (start.value(c0), start.value(c1))
        var (acc2, acc3): (V, V) = (start.value(c2), start.value(c3))
        var a0 = a.base + r * a.rowStride
        let rowStride = a.rowStride
        var bRow = b
        for _ in 0..<inner {
            let bv: V = loadVector(bRow)
            acc0 += V(repeating: a0.pointee) * bv
            acc1 += V(repeating: a0[rowStride]) * bv
            acc2 += V(repeating: a0[2 * rowStride]) * bv
            acc3 += V(repeating: a0[3 * rowStride]) * bv
            a0 += a.innerStride
            bRow += bRowStride
        }
        storeVector(acc0, c0); storeVector(acc1, c1); storeVector(acc2, c2); storeVector(acc3, c3)
    }

    /// One row x the width of `V` (8, 4 or 2 columns).
    @inline(__always)
    static func block1Row<V: SIMD>(_ width: V.Type, _ r: Int, _ inner: Int, _ a: Operand, _ b: UnsafePointer<Double>,
                                   _ bRowStride: Int, _ c: UnsafeMutablePointer<Double>, _ cRowStride: Int,
                                   _ start: Start) where V.Scalar == Double {
        let c0 = c + r * cRowStride
        var acc0: V = start.value(c0)
        var a0 = a.base + r * a.rowStride
        var bRow = b
        for _ in 0..<inner {
            acc0 += V(repeating: a0.pointee) * (loadVector(bRow) as V)
            a0 += a.innerStride
            bRow += bRowStride
        }
        storeVector(acc0, c0)
    }

    /// Where each sum of a k block starts: C's value, +0.0, or `row[column]`
    /// (the same starting row for every row of C).
    struct Start {
        var zero: Bool
        var row: UnsafePointer<Double>?

        static let fromC = Start(zero: false, row: nil)

        /// The same start for the columns from `columns` on.
        @inline(__always) func shifted(_ columns: Int) -> Start { Start(zero: zero, row: row.map { $0 + columns }) }

        /// The starting values of the columns at `c` of one row of C.
        @inline(__always) func value<V: SIMD>(_ c: UnsafeMutablePointer<Double>) -> V where V.Scalar == Double {
            if let row { return MatrixProduct.loadVector(row) }
            return zero ? V() : MatrixProduct.loadVector(c)
        }

        @inline(__always) func scalar(_ c: UnsafeMutablePointer<Double>) -> Double {
            if let row { return row.pointee }
            return zero ? 0 : c.pointee
        }
    }
}
