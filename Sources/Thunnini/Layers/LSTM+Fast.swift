import Foundation

/// The fast twins of `LSTM.forward` and `LSTM.backward` (Docs/performance.md).
///
/// Same operations per output element as the scalar kernels, in the same
/// order, so the results are bit-identical to them:
/// - the four gates' kernels are fused into `[in, 4H]` and `[H, 4H]`
///   matrices, so one product per time step yields every pre-activation
///   (`bias`, then the input terms in i order, then the recurrent terms in k
///   order, as the scalar loop adds them);
/// - sequences are independent, so the batch is split into chunks that run
///   the whole time loop in parallel;
/// - `dh_{t-1}` and `dx_t` are one product each over the 4H pre-activation
///   gradients (the scalar kernel's one sum per element, gate by gate);
/// - the weight gradients, which sum over every (t, b) in the scalar kernel's
///   order (t descending, b ascending), are one product per time step over
///   that step's rows, in that order, split across threads by column (each
///   element's sum stays in one thread, in order).
extension LSTM {
    /// The layer's forward pass: `forwardFast`, or `forwardReference` under
    /// `KernelMode.useReferenceKernels` (the results are the same bit for bit).
    public static func forward(_ x: Tensor, parameters p: Parameters) -> (cells: Tensor, hiddens: Tensor, cache: Cache) {
        KernelMode.useReferenceKernels ? forwardReference(x, parameters: p) : forwardFast(x, parameters: p)
    }

    /// The layer's backward pass: `backwardFast`, or `backwardReference` under
    /// `KernelMode.useReferenceKernels`.
    public static func backward(dHiddens: Tensor, dCells: Tensor?, cache: Cache,
                                parameters p: Parameters) -> (input: Tensor, parameters: Parameters) {
        KernelMode.useReferenceKernels
            ? backwardReference(dHiddens: dHiddens, dCells: dCells, cache: cache, parameters: p)
            : backwardFast(dHiddens: dHiddens, dCells: dCells, cache: cache, parameters: p)
    }

    /// Fast twin of `forward`; results equal it bit for bit.
    public static func forwardFast(_ x: Tensor, parameters p: Parameters) -> (cells: Tensor, hiddens: Tensor, cache: Cache) {
        precondition(x.rank == 3, "LSTM expects [B, L, in], got \(x.shape)")
        let (batch, length, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
        let hiddenSize = p.hiddenSize
        let gates = p.gates
        for gate in gates {
            precondition(gate.inputKernel.shape == [inputSize, hiddenSize]
                         && gate.recurrentKernel.shape == [hiddenSize, hiddenSize]
                         && gate.recurrentBias.shape == [hiddenSize],
                         "LSTM gate shapes do not match input \(inputSize), hidden \(hiddenSize)")
        }
        let fused = 4 * hiddenSize
        // [W_i; W_h]: the input kernel's rows, then the recurrent kernel's.
        let stackedKernel = Tensor(shape: [inputSize + hiddenSize, 4 * hiddenSize],
                                   storage: fuse(gates.map(\.inputKernel), rows: inputSize, hiddenSize: hiddenSize).storage
                                       + fuse(gates.map(\.recurrentKernel), rows: hiddenSize, hiddenSize: hiddenSize).storage)
        let bias = fuse(gates.map(\.recurrentBias), rows: 1, hiddenSize: hiddenSize)

        let H = hiddenSize
        // Every element of the seven outputs is written below.
        let outputs = Tensor.writingEveryElement(of: 7, shape: [batch, length, hiddenSize]) { pointers in
        let (cP, hP, tcP, iP, fP, gP, oP) = (pointers[0], pointers[1], pointers[2], pointers[3], pointers[4], pointers[5], pointers[6])
        x.withPointer { xP in stackedKernel.withPointer { wP in bias.withPointer { biasP in
            let out = (c: SharedPointer(cP), h: SharedPointer(hP), tc: SharedPointer(tcP),
                       i: SharedPointer(iP), f: SharedPointer(fP), g: SharedPointer(gP), o: SharedPointer(oP))
            Parallel.forEachChunk(of: batch, minimumPerChunk: 4) { chunk in
                let rows = chunk.count
                let preactivation = UnsafeMutablePointer<Double>.allocate(capacity: rows * fused)
                // Row r: [x_t, h_{t-1}] of sequence chunk.lowerBound + r.
                let width = inputSize + H
                let stackedInput = UnsafeMutablePointer<Double>.allocate(capacity: rows * width)
                defer { preactivation.deallocate(); stackedInput.deallocate() }
                for t in 0..<length {
                    // a = b_h, then + x_t W_i (i order), then + h_{t-1} W_h (k
                    // order): one product over [x_t, h_{t-1}] and [W_i; W_h]
                    // (over x_t and W_i alone at t = 0).
                    for r in 0..<rows {
                        let b = chunk.lowerBound + r
                        (preactivation + r * fused).update(from: biasP, count: fused)
                        (stackedInput + r * width).update(from: xP + (b * length + t) * inputSize, count: inputSize)
                        if t > 0 {
                            (stackedInput + r * width + inputSize).update(from: out.h.base + (b * length + t - 1) * H, count: H)
                        }
                    }
                    MatrixProduct.accumulate(rows: rows, inner: t > 0 ? width : inputSize, columns: fused,
                                             a: .init(stackedInput, rowStride: width),
                                             b: wP, bRowStride: fused, c: preactivation, cRowStride: fused)
                    for r in 0..<rows {
                        let b = chunk.lowerBound + r
                        let row = (b * length + t) * H
                        let previousRow = (b * length + t - 1) * H
                        let a = preactivation + r * fused
                        // Gate activations sixteen units at a time (Elementary's
                        // scalar functions are one lane of the same code).
                        Elementary.sigmoid(a, into: out.i.base + row, count: H)
                        Elementary.sigmoid(a + H, into: out.f.base + row, count: H)
                        Elementary.tanh(a + 2 * H, into: out.g.base + row, count: H)
                        Elementary.sigmoid(a + 3 * H, into: out.o.base + row, count: H)
                        let (i, f, g, c) = (out.i.base + row, out.f.base + row, out.g.base + row, out.c.base + row)
                        let (o, tanhC, h) = (out.o.base + row, out.tc.base + row, out.h.base + row)
                        // c = f c_{t-1} + i g (c_{-1} = 0), four units at a time, then the rest.
                        var j = 0
                        while j + 4 <= H {
                            let cPrevious = t > 0 ? load4(out.c.base + previousRow + j) : SIMD4<Double>()
                            store4(load4(f + j) * cPrevious + load4(i + j) * load4(g + j), c + j)
                            j += 4
                        }
                        while j < H {
                            let cPrevious = t > 0 ? out.c.base[previousRow + j] : 0
                            c[j] = f[j] * cPrevious + i[j] * g[j]
                            j += 1
                        }
                        Elementary.tanh(c, into: tanhC, count: H)
                        j = 0
                        while j + 4 <= H {
                            store4(load4(o + j) * load4(tanhC + j), h + j)
                            j += 4
                        }
                        while j < H {
                            h[j] = o[j] * tanhC[j]
                            j += 1
                        }
                    }
                }
            }
        }}}}
        let (cells, hiddens, tanhCells) = (outputs[0], outputs[1], outputs[2])
        let (inputGate, forgetGate, cellGate, outputGate) = (outputs[3], outputs[4], outputs[5], outputs[6])
        let cache = Cache(input: x, cells: cells, hiddens: hiddens, inputGate: inputGate,
                          forgetGate: forgetGate, cellGate: cellGate, outputGate: outputGate,
                          tanhCells: tanhCells)
        return (cells, hiddens, cache)
    }

    /// dL/dx alone (the weight gradients' products skipped): the same bits
    /// as `backward(...).input`, for prefix tuning.
    public static func inputGradient(dHiddens: Tensor, dCells: Tensor?, cache: Cache, parameters p: Parameters) -> Tensor {
        KernelMode.useReferenceKernels
            ? backwardReference(dHiddens: dHiddens, dCells: dCells, cache: cache, parameters: p).input
            : backwardFast(dHiddens: dHiddens, dCells: dCells, cache: cache, parameters: p, weightGradients: false).input
    }

    /// Fast twin of `backward`; results equal it bit for bit. Without
    /// `weightGradients`, the parameter gradients are left out (nil).
    public static func backwardFast(dHiddens: Tensor, dCells: Tensor?, cache: Cache,
                                    parameters p: Parameters) -> (input: Tensor, parameters: Parameters) {
        let result = backwardFast(dHiddens: dHiddens, dCells: dCells, cache: cache, parameters: p, weightGradients: true)
        return (result.input, result.parameters!)
    }

    static func backwardFast(dHiddens: Tensor, dCells: Tensor?, cache: Cache, parameters p: Parameters,
                             weightGradients: Bool) -> (input: Tensor, parameters: Parameters?) {
        let x = cache.input
        let (batch, length, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
        let H = p.hiddenSize
        precondition(dHiddens.shape == [batch, length, H], "LSTM hidden gradient \(dHiddens.shape)")
        if let dCells { precondition(dCells.shape == [batch, length, H], "LSTM cell gradient \(dCells.shape)") }
        let fused = 4 * H
        let gates = p.gates
        // W^T per gate, stacked: row g H + j of `recurrentT` is column j of W_h<g>.
        let recurrentT = fuseTransposed(gates.map(\.recurrentKernel), columns: H, hiddenSize: H)
        let inputT = fuseTransposed(gates.map(\.inputKernel), columns: inputSize, hiddenSize: H)
        let tanhCells = cache.tanhCells ?? Tensor(shape: cache.cells.shape) { tanhP in
            cache.cells.withPointer { Elementary.tanh($0, into: tanhP, count: cache.cells.count) }
        }
        let dCellsOrZero = dCells ?? Tensor.zeros([0])
        let hasCellGradient = dCells != nil

        // Pre-activation gradients in the scalar kernel's summation order:
        // row (L-1-t) B + b holds (b, t).
        // Every row is written in the time loop.
        let dA = Tensor(shape: [length * batch, fused]) { daP in
        recurrentT.withPointer { whtP in
        dHiddens.withPointer { dhP in dCellsOrZero.withPointer { dcP in tanhCells.withPointer { tcP in
        cache.cells.withPointer { cP in cache.inputGate.withPointer { iP in cache.forgetGate.withPointer { fP in
        cache.cellGate.withPointer { gP in cache.outputGate.withPointer { oP in
            let dAShared = SharedPointer(daP)
            Parallel.forEachChunk(of: batch, minimumPerChunk: 4) { chunk in
                let rows = chunk.count
                let dhNext = UnsafeMutablePointer<Double>.allocate(capacity: rows * H)
                let dcNext = UnsafeMutablePointer<Double>.allocate(capacity: rows * H)
                defer { dhNext.deallocate(); dcNext.deallocate() }
                dhNext.initialize(repeating: 0, count: rows * H)
                dcNext.initialize(repeating: 0, count: rows * H)
                for t in stride(from: length - 1, through: 0, by: -1) {
                    let firstRow = (length - 1 - t) * batch + chunk.lowerBound
                    for r in 0..<rows {
                        let b = chunk.lowerBound + r
                        let row = (b * length + t) * H
                        let previousRow = (b * length + t - 1) * H
                        let da = dAShared.base + (firstRow + r) * fused
                        let carry = r * H
                        // Four units at a time, the rest as one lane of the same code.
                        var j = 0
                        while j < H {
                            let lanes = min(4, H - j)
                            func load(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
                                lanes == 4 ? load4(p) : SIMD4(repeating: p.pointee)
                            }
                            let cPrevious = t > 0 ? load(cP + previousRow + j) : SIMD4<Double>()
                            let cellGradient = hasCellGradient ? load(dcP + row + j) : nil
                            let unit = gateGradients(i: load(iP + row + j), f: load(fP + row + j), g: load(gP + row + j),
                                                     o: load(oP + row + j), tanhC: load(tcP + row + j), cPrevious: cPrevious,
                                                     dh: load(dhP + row + j) + load(dhNext + carry + j),
                                                     dcCarried: load(dcNext + carry + j), dcFromAbove: cellGradient)
                            if lanes == 4 {
                                store4(unit.da.0, da + j); store4(unit.da.1, da + H + j)
                                store4(unit.da.2, da + 2 * H + j); store4(unit.da.3, da + 3 * H + j)
                                store4(unit.dcCarry, dcNext + carry + j)
                            } else {
                                da[j] = unit.da.0[0]; da[H + j] = unit.da.1[0]
                                da[2 * H + j] = unit.da.2[0]; da[3 * H + j] = unit.da.3[0]
                                dcNext[carry + j] = unit.dcCarry[0]
                            }
                            j += lanes == 4 ? 4 : 1
                        }
                    }
                    // dh_next = da [W_h<i>; ...; W_h<o>]^T: one sum from zero over the 4H pre-activations.
                    guard t > 0 else { continue }
                    MatrixProduct.accumulate(rows: rows, inner: fused, columns: H,
                                             a: .init(UnsafePointer(dAShared.base) + firstRow * fused, rowStride: fused),
                                             b: whtP, bRowStride: H, c: dhNext, cRowStride: H, startingFromZero: true)
                }
            }
        }}}}}}}}}}

        // dx_t = da [W_i<i>; ...; W_i<o>]^T: one sum from zero over the 4H pre-activations.
        // Every (b, t) row is written by one product below.
        let dx = Tensor(shape: x.shape) { dxP in dA.withPointer { daP in inputT.withPointer { wxtP in
            let dxShared = SharedPointer(dxP)
            Parallel.forEachChunk(of: batch, minimumPerChunk: 4) { chunk in
                for t in 0..<length {
                    let firstRow = (length - 1 - t) * batch + chunk.lowerBound
                    MatrixProduct.accumulate(rows: chunk.count, inner: fused, columns: inputSize,
                                             a: .init(daP + firstRow * fused, rowStride: fused),
                                             b: wxtP, bRowStride: inputSize,
                                             c: dxShared.base + (chunk.lowerBound * length + t) * inputSize,
                                             cRowStride: length * inputSize, startingFromZero: true)
                }
            }
        }}}

        guard weightGradients else { return (dx, nil) }
        // Weight gradients: sums over the rows of dA in order (t descending, b ascending).
        let (dBias, dInputKernel, dRecurrentKernel) = Self.weightGradients(dA, input: x, hiddens: cache.hiddens, fused: fused)
        func gradient(_ g: Int) -> Gate {
            Gate(inputKernel: unfuse(dInputKernel, rows: inputSize, hiddenSize: H, gate: g),
                 recurrentKernel: unfuse(dRecurrentKernel, rows: H, hiddenSize: H, gate: g),
                 recurrentBias: unfuse(dBias, rows: 1, hiddenSize: H, gate: g).reshaped([H]))
        }
        return (dx, Parameters(inputGate: gradient(0), forgetGate: gradient(1), cellGate: gradient(2), outputGate: gradient(3)))
    }

    /// One backward step of four units, the scalar kernel's per-unit
    /// arithmetic in its order: `dc = dc_next + dh o (1 - tanh(c)^2) [+ dc_in]`,
    /// the four pre-activation gradients, and `dc f` carried to step t - 1.
    @inline(__always)
    static func gateGradients(i: SIMD4<Double>, f: SIMD4<Double>, g: SIMD4<Double>, o: SIMD4<Double>,
                              tanhC: SIMD4<Double>, cPrevious: SIMD4<Double>, dh: SIMD4<Double>,
                              dcCarried: SIMD4<Double>, dcFromAbove: SIMD4<Double>?)
        -> (da: (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>), dcCarry: SIMD4<Double>) {
        var dc = dcCarried + dh * o * (1 - tanhC * tanhC)
        if let dcFromAbove { dc += dcFromAbove }
        return ((dc * g * i * (1 - i), dc * cPrevious * f * (1 - f), dc * i * (1 - g * g), dh * tanhC * o * (1 - o)),
                dc * f)
    }

    @inline(__always)
    static func load4(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self)
    }

    @inline(__always)
    static func load4(_ p: UnsafeMutablePointer<Double>) -> SIMD4<Double> { load4(UnsafePointer(p)) }

    @inline(__always)
    static func store4(_ v: SIMD4<Double>, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Double>.self)
    }

    /// `[rows, 4H]` with gate g's `[rows, H]` matrix in columns `g H ..< (g+1) H`.
    static func fuse(_ parts: [Tensor], rows: Int, hiddenSize: Int) -> Tensor {
        var fused = Tensor.zeros([rows, 4 * hiddenSize])
        for (g, part) in parts.enumerated() {
            for r in 0..<rows {
                for j in 0..<hiddenSize { fused.storage[r * 4 * hiddenSize + g * hiddenSize + j] = part.storage[r * hiddenSize + j] }
            }
        }
        return fused
    }

    /// `[4H, columns]` with row g H + j holding column j of gate g's `[columns, H]` matrix.
    static func fuseTransposed(_ parts: [Tensor], columns: Int, hiddenSize: Int) -> Tensor {
        var stacked = Tensor.zeros([4 * hiddenSize, columns])
        for (g, part) in parts.enumerated() {
            for i in 0..<columns {
                for j in 0..<hiddenSize { stacked.storage[(g * hiddenSize + j) * columns + i] = part.storage[i * hiddenSize + j] }
            }
        }
        return stacked
    }

    /// Gate g's `[rows, H]` block of a fused `[rows, 4H]` matrix.
    static func unfuse(_ fused: Tensor, rows: Int, hiddenSize: Int, gate g: Int) -> Tensor {
        var part = Tensor.zeros([rows, hiddenSize])
        for r in 0..<rows {
            for j in 0..<hiddenSize { part.storage[r * hiddenSize + j] = fused.storage[r * 4 * hiddenSize + g * hiddenSize + j] }
        }
        return part
    }

    /// The weight gradients from the pre-activation gradients `dA` (rows in
    /// the scalar kernel's order: row (L-1-t) B + b holds (b, t)):
    /// `dBias[c] = sum dA[row, c]`, `dW_i[i, c] = sum x_t[b, i] dA[row, c]`,
    /// `dW_h[k, c] = sum h_{t-1}[b, k] dA[row, c]` (t >= 1), each from zero in
    /// row order.
    ///
    /// One product per time step (descending) over the B rows of step t, with
    /// the rows `[1, x_t, h_{t-1}]` as A: the bias is the product with ones
    /// (`1 * v == v` exactly, so it adds the same values as the scalar sum).
    /// At t = 0 the h rows are left out, as they are last. Columns are split
    /// across threads; each element's sum stays, in order, in one thread, and
    /// step t's slice of dA stays in cache while it is used.
    static func weightGradients(_ dA: Tensor, input x: Tensor, hiddens: Tensor, fused: Int)
        -> (bias: Tensor, input: Tensor, recurrent: Tensor) {
        let (batch, length, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
        let H = hiddens.shape[2]
        let width = 1 + inputSize + H
        var dW = Tensor.zeros([width, fused])
        x.withPointer { xP in hiddens.withPointer { hP in dA.withPointer { daP in dW.withMutablePointer { dwP in
            let out = SharedPointer(dwP)
            // Split by columns (panels of eight): each thread packs only its
            // own columns of dA and reuses them over every kernel row.
            let panels = (fused + 7) / 8
            Parallel.forEachChunk(of: panels) { panelChunk in
                let columns = (panelChunk.lowerBound * 8)..<min(fused, panelChunk.upperBound * 8)
                // transposedRows[b * width + w] = row w of [1, x_t, h_{t-1}] for sequence b.
                let transposedRows = UnsafeMutablePointer<Double>.allocate(capacity: batch * width)
                defer { transposedRows.deallocate() }
                for t in stride(from: length - 1, through: 0, by: -1) {
                    let usedRows = t > 0 ? width : 1 + inputSize
                    for b in 0..<batch {
                        let target = transposedRows + b * width
                        target[0] = 1
                        (target + 1).update(from: xP + (b * length + t) * inputSize, count: inputSize)
                        if t > 0 { (target + 1 + inputSize).update(from: hP + (b * length + t - 1) * H, count: H) }
                    }
                    MatrixProduct.accumulate(rows: usedRows, inner: batch, columns: columns.count,
                                             a: .init(transposedRows, rowStride: 1, innerStride: width),
                                             b: daP + (length - 1 - t) * batch * fused + columns.lowerBound, bRowStride: fused,
                                             c: out.base + columns.lowerBound, cRowStride: fused)
                }
            }
        }}}}
        func rows(_ range: Range<Int>) -> Tensor {
            Tensor(shape: [range.count, fused], storage: Array(dW.storage[(range.lowerBound * fused)..<(range.upperBound * fused)]))
        }
        return (rows(0..<1).reshaped([fused]), rows(1..<(1 + inputSize)), rows((1 + inputSize)..<width))
    }
}
