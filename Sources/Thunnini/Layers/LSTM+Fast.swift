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
///   the forward time loop in parallel, and the backward time loop block by
///   block (four steps each);
/// - the cache is time-major (row `t B + b`), so each step's rows are
///   contiguous, and x, h and their gradients may be too
///   (`SequenceLayout`, LSTM+Layout.swift);
/// - `dh_{t-1}` and `dx_t` are one product each over the 4H pre-activation
///   gradients (the scalar kernel's one sum per element, gate by gate);
/// - the weight gradients, which sum over every (t, b) in the scalar kernel's
///   order (t descending, b ascending), are one product per time step over
///   that step's rows, in that order, right after each block of steps, split
///   across threads by column (each element's sum stays in one thread, in
///   order).
extension LSTM {
    /// The layer's forward pass: `forwardFast`, or `forwardReference` under
    /// `KernelMode.useReferenceKernels` (the results are the same bit for bit).
    /// x is in `inputLayout`; h and the cache are in `outputLayout`.
    public static func forward(_ x: Tensor, parameters p: Parameters, inputLayout: SequenceLayout = .batchMajor,
                               outputLayout: SequenceLayout = .batchMajor) -> (hiddens: Tensor, cache: Cache) {
        KernelMode.useReferenceKernels
            ? forwardReference(x, parameters: p, inputLayout: inputLayout, outputLayout: outputLayout)
            : forwardFast(x, parameters: p, inputLayout: inputLayout, outputLayout: outputLayout)
    }

    /// The layer's backward pass: `backwardFast`, or `backwardReference` under
    /// `KernelMode.useReferenceKernels`. `dHiddens` and `dCells` are in the
    /// cache's output layout, dL/dx in its input layout.
    public static func backward(dHiddens: Tensor, dCells: Tensor?, cache: Cache,
                                parameters p: Parameters) -> (input: Tensor, parameters: Parameters) {
        KernelMode.useReferenceKernels
            ? backwardReferenceInCacheLayouts(dHiddens: dHiddens, dCells: dCells, cache: cache, parameters: p)
            : backwardFast(dHiddens: dHiddens, dCells: dCells, cache: cache, parameters: p)
    }

    /// Fast twin of `forward`; results equal it bit for bit.
    public static func forwardFast(_ x: Tensor, parameters p: Parameters, inputLayout: SequenceLayout = .batchMajor,
                                   outputLayout: SequenceLayout = .batchMajor) -> (hiddens: Tensor, cache: Cache) {
        let (batch, length, _) = checkShapes(x, p, inputLayout)
        let H = p.hiddenSize
        // Every element of the four outputs is written below.
        let outputs = Tensor.writingEveryElement(shapes: [outputLayout.shape(batch: batch, length: length, width: H),
                                                          [length * batch, H], [length * batch, H],
                                                          [length * batch, 4 * H]]) { pointers in
            let (hP, cP, tcP, aP) = (SharedPointer(pointers[0]), SharedPointer(pointers[1]),
                                     SharedPointer(pointers[2]), SharedPointer(pointers[3]))
            runSteps(x, parameters: p, layouts: (inputLayout, outputLayout), hiddens: hP.base) { chunk in
                // The cache's time-major rows: step t of the chunk at row t B + chunk start.
                func rows(_ base: SharedPointer, _ rowWidth: Int) -> StepRows {
                    StepRows(base: base.base + chunk.lowerBound * rowWidth, period: length, stride: batch * rowWidth)
                }
                return (gates: rows(aP, 4 * H), cells: rows(cP, H), tanhCells: rows(tcP, H), release: {})
            }
        }
        let (hiddens, cells, tanhCells, activated) = (outputs[0], outputs[1], outputs[2], outputs[3])
        let cache = Cache(input: x, hiddens: hiddens, gates: activated, cellsByStep: cells, tanhCellsByStep: tanhCells,
                          inputLayout: inputLayout, outputLayout: outputLayout)
        return (hiddens, cache)
    }

    /// h after every step (`[B, L, H]`) without the cache, for evaluation:
    /// the same time loop as `forwardFast` (so the same bits as
    /// `forward(x).hiddens`), with each chunk's step rows in small buffers it
    /// reuses at every step instead of the `L B`-row cache tensors, which a
    /// forward pass with no backward pass would only write to memory.
    public static func hiddensOnly(_ x: Tensor, parameters p: Parameters, inputLayout: SequenceLayout = .batchMajor,
                                   outputLayout: SequenceLayout = .batchMajor) -> Tensor {
        if KernelMode.useReferenceKernels {
            return forwardReference(x, parameters: p, inputLayout: inputLayout, outputLayout: outputLayout).hiddens
        }
        let (batch, length, _) = checkShapes(x, p, inputLayout)
        let H = p.hiddenSize
        return Tensor(shape: outputLayout.shape(batch: batch, length: length, width: H)) { hP in
            runSteps(x, parameters: p, layouts: (inputLayout, outputLayout), hiddens: hP) { chunk in
                let rows = chunk.count
                // One step's rows, overwritten at every step: c_t goes into
                // c_{t-1}'s place, each element after reading its own
                // previous value.
                let buffer = UnsafeMutablePointer<Double>.allocate(capacity: rows * (4 * H + 2 * H))
                let cells = buffer + rows * 4 * H
                return (gates: StepRows(base: buffer, period: 1, stride: 0),
                        cells: StepRows(base: cells, period: 1, stride: 0),
                        tanhCells: StepRows(base: cells + rows * H, period: 1, stride: 0),
                        release: { buffer.deallocate() })
            }
        }
    }

    /// Where a chunk keeps the rows of step t: `base + (t % period) * stride`,
    /// one row per sequence of the chunk, consecutive. The cache's time-major
    /// tensors are period L; a chunk's reusable buffers period 1.
    struct StepRows {
        let base: UnsafeMutablePointer<Double>
        let period: Int
        let stride: Int
        @inline(__always) func at(_ t: Int) -> UnsafeMutablePointer<Double> { base + (t % period) * stride }
    }

    /// The checked shapes `(B, L, in)` of an LSTM layer's input (in `layout`) and parameters.
    static func checkShapes(_ x: Tensor, _ p: Parameters, _ layout: SequenceLayout) -> (batch: Int, length: Int, inputSize: Int) {
        let (batch, length, inputSize) = layout.dimensions(of: x)
        for gate in p.gates {
            precondition(gate.inputKernel.shape == [inputSize, p.hiddenSize]
                         && gate.recurrentKernel.shape == [p.hiddenSize, p.hiddenSize]
                         && gate.recurrentBias.shape == [p.hiddenSize],
                         "LSTM gate shapes do not match input \(inputSize), hidden \(p.hiddenSize)")
        }
        return (batch, length, inputSize)
    }

    /// The forward time loop, in parallel over chunks of sequences, writing
    /// h (in the output layout) to `hiddens` and each step's gates, c and tanh(c)
    /// where `storage(chunk)` says (it may hand out buffers, freed by its
    /// `release`). Each chunk builds its step's operand rows `[x_t, h_{t-1}]`
    /// in one buffer it reuses at every step (the backward pass reads x and
    /// h from the layer's input and output instead).
    static func runSteps(_ x: Tensor, parameters p: Parameters, layouts: (input: SequenceLayout, output: SequenceLayout),
                         hiddens: UnsafeMutablePointer<Double>,
                         storage: (Range<Int>) -> (gates: StepRows, cells: StepRows,
                                                   tanhCells: StepRows, release: () -> Void)) {
        let (batch, length, inputSize) = layouts.input.dimensions(of: x)
        // Rows of x and h between consecutive sequences of a step.
        let (xSequenceStride, hSequenceStride) = (layouts.input.sequenceStride(length: length),
                                                  layouts.output.sequenceStride(length: length))
        let H = p.hiddenSize
        let (fused, width) = (4 * H, inputSize + H)
        // [W_i; W_h]: the input kernel's rows, then the recurrent kernel's.
        let stackedKernel = Tensor(shape: [inputSize + H, fused],
                                   storage: fuse(p.gates.map(\.inputKernel), rows: inputSize, hiddenSize: H).storage
                                       + fuse(p.gates.map(\.recurrentKernel), rows: H, hiddenSize: H).storage)
        let bias = fuse(p.gates.map(\.recurrentBias), rows: 1, hiddenSize: H)
        let hShared = SharedPointer(hiddens)
        x.withPointer { xP in stackedKernel.withPointer { wP in bias.withPointer { biasP in
            // The kernel's panels, copied once for every step after the first.
            let packedKernel = MatrixProduct.PackedB(wP, inner: inputSize + H, columns: fused, bRowStride: fused)
            Parallel.forEachChunk(of: batch, minimumPerChunk: 4) { chunk in
                let rows = chunk.count
                let stored = storage(chunk)
                let inputs = UnsafeMutablePointer<Double>.allocate(capacity: rows * width)
                defer { stored.release(); inputs.deallocate() }
                for t in 0..<length {
                    let a = stored.gates.at(t)
                    // Row r: x_t (h_{t-1} was written by step t - 1; step 0
                    // reads no h, h_{-1} being 0).
                    let xFirst = xP + layouts.input.row(chunk.lowerBound, t, batch: batch, length: length) * inputSize
                    for r in 0..<rows {
                        copy(xFirst + r * xSequenceStride * inputSize, to: inputs + r * width, count: inputSize)
                    }
                    // a = b_h, then + x_t W_i (i order), then + h_{t-1} W_h (k
                    // order): one product over [x_t, h_{t-1}] and [W_i; W_h]
                    // (over x_t and W_i alone at t = 0), every sum starting at
                    // the bias row (not copied into the gates first).
                    let operands = MatrixProduct.Operand(UnsafePointer(inputs), rowStride: width)
                    if t > 0 {
                        MatrixProduct.accumulate(rows: rows, a: operands, packed: packedKernel, c: a, cRowStride: fused,
                                                 startingFromRow: biasP)
                    } else {
                        MatrixProduct.accumulate(rows: rows, inner: inputSize, columns: fused, a: operands,
                                                 b: wP, bRowStride: fused, c: a, cRowStride: fused, startingFromRow: biasP)
                    }
                    for r in 0..<rows {
                        let gate = a + r * fused
                        // The gates in place, sixteen units at a time (Elementary's
                        // scalar functions are one lane of the same code).
                        Elementary.sigmoid(gate, into: gate, count: H)
                        Elementary.sigmoid(gate + H, into: gate + H, count: H)
                        Elementary.tanh(gate + 2 * H, into: gate + 2 * H, count: H)
                        Elementary.sigmoid(gate + 3 * H, into: gate + 3 * H, count: H)
                        let (i, f, g, o) = (gate, gate + H, gate + 2 * H, gate + 3 * H)
                        let c = stored.cells.at(t) + r * H
                        let cPrevious = t > 0 ? stored.cells.at(t - 1) + r * H : c    // read only for t > 0
                        let tanhC = stored.tanhCells.at(t) + r * H
                        // c = f c_{t-1} + i g (c_{-1} = 0), four units at a time, then the rest.
                        var j = 0
                        while j + 4 <= H {
                            let previous = t > 0 ? load4(cPrevious + j) : SIMD4<Double>()
                            store4(load4(f + j) * previous + load4(i + j) * load4(g + j), c + j)
                            j += 4
                        }
                        while j < H {
                            c[j] = f[j] * (t > 0 ? cPrevious[j] : 0) + i[j] * g[j]
                            j += 1
                        }
                        Elementary.tanh(c, into: tanhC, count: H)
                        // h = o tanh(c): the output, and step t + 1's operand row.
                        let h = hShared.base + (layouts.output.row(chunk.lowerBound, t, batch: batch, length: length)
                                                + r * hSequenceStride) * H
                        j = 0
                        while j + 4 <= H {
                            store4(load4(o + j) * load4(tanhC + j), h + j)
                            j += 4
                        }
                        while j < H {
                            h[j] = o[j] * tanhC[j]
                            j += 1
                        }
                        if t + 1 < length {
                            copy(UnsafePointer(h), to: inputs + r * width + inputSize, count: H)
                        }
                    }
                }
            }
        }}}
    }

    /// Copies `count` doubles four at a time (short rows: no library call).
    @inline(__always)
    static func copy(_ source: UnsafePointer<Double>, to destination: UnsafeMutablePointer<Double>, count: Int) {
        var j = 0
        while j + 4 <= count {
            store4(load4(source + j), destination + j)
            j += 4
        }
        while j < count {
            destination[j] = source[j]
            j += 1
        }
    }

    /// dL/dx alone (the weight gradients' products skipped): the same bits
    /// as `backward(...).input`, for prefix tuning.
    public static func inputGradient(dHiddens: Tensor, dCells: Tensor?, cache: Cache, parameters p: Parameters) -> Tensor {
        KernelMode.useReferenceKernels
            ? backwardReferenceInCacheLayouts(dHiddens: dHiddens, dCells: dCells, cache: cache, parameters: p).input
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
        let (inputLayout, outputLayout) = (cache.inputLayout, cache.outputLayout)
        let (batch, length, inputSize) = inputLayout.dimensions(of: x)
        let H = p.hiddenSize
        let hShape = outputLayout.shape(batch: batch, length: length, width: H)
        precondition(dHiddens.shape == hShape, "LSTM hidden gradient \(dHiddens.shape), expected \(hShape)")
        if let dCells { precondition(dCells.shape == hShape, "LSTM cell gradient \(dCells.shape), expected \(hShape)") }
        // Rows of x (and dx) and of h (and dh, dc) between consecutive sequences of a step.
        let (xSequenceStride, hSequenceStride) = (inputLayout.sequenceStride(length: length),
                                                  outputLayout.sequenceStride(length: length))
        let fused = 4 * H
        let gates = p.gates
        // W^T per gate, stacked: row g H + j of `recurrentT` is column j of W_h<g>.
        let recurrentT = fuseTransposed(gates.map(\.recurrentKernel), columns: H, hiddenSize: H)
        let inputT = fuseTransposed(gates.map(\.inputKernel), columns: inputSize, hiddenSize: H)
        let dCellsOrZero = dCells ?? Tensor.zeros([0])
        let hasCellGradient = dCells != nil

        let width = 1 + inputSize + H
        let block = backwardTimeBlock
        let panels = (fused + 7) / 8
        // The carries dh_next and dc_next of every sequence (zero after the
        // last step), a block of steps' pre-activation gradients (row
        // (s B + b) for the block's s-th step from its end), and dW = [db; dW_i; dW_h].
        let carries = UnsafeMutablePointer<Double>.allocate(capacity: 2 * batch * H)
        let blockGradients = UnsafeMutablePointer<Double>.allocate(capacity: block * batch * fused)
        // The block's operand rows [1, x_t, h_{t-1}] (row (s B + b), as the
        // gradients), gathered from x and h for the weight gradients' products.
        let blockOperands = UnsafeMutablePointer<Double>.allocate(capacity: weightGradients ? block * batch * width : 0)
        defer { carries.deallocate(); blockGradients.deallocate(); blockOperands.deallocate() }
        carries.initialize(repeating: 0, count: 2 * batch * H)
        var dW = Tensor.zeros(weightGradients ? [width, fused] : [0])
        // Every (b, t) row of dx is written by one product in the time loop.
        let dx = Tensor(shape: x.shape) { dxPointer in
        recurrentT.withPointer { whtP in inputT.withPointer { wxtP in x.withPointer { xP in cache.hiddens.withPointer { hP in
        dHiddens.withPointer { dhP in dCellsOrZero.withPointer { dcP in cache.tanhCellsByStep.withPointer { tcP in
        cache.cellsByStep.withPointer { cP in cache.gates.withPointer { gatesP in dW.withMutablePointer { dwPointer in
            let (dxP, dAShared, dwP) = (SharedPointer(dxPointer), SharedPointer(blockGradients), SharedPointer(dwPointer))
            let operandsShared = SharedPointer(blockOperands)
            // The stacked kernels' panels, copied once for every step.
            let packedInputT = MatrixProduct.PackedB(wxtP, inner: fused, columns: inputSize, bRowStride: inputSize)
            let packedRecurrentT = MatrixProduct.PackedB(whtP, inner: fused, columns: H, bRowStride: H)
            let (dhNext, dcNext) = (SharedPointer(carries), SharedPointer(carries + batch * H))
            // Blocks of steps, last block first: the block's pre-activation
            // gradients (rows split across threads), then their share of dW
            // (columns split) while they are still in cache.
            for blockEnd in stride(from: length, to: 0, by: -block) {
                let blockStart = max(0, blockEnd - block)
                Parallel.forEachChunk(of: batch, minimumPerChunk: 4) { chunk in
                    let rows = chunk.count
                    for t in (blockStart..<blockEnd).reversed() {
                        let firstRow = (blockEnd - 1 - t) * batch + chunk.lowerBound
                        // This step's rows of the time-major cache are contiguous.
                        let first = t * batch + chunk.lowerBound
                        // The chunk's first rows of x (and dx) and of h (and dh) at step t.
                        let xFirst = inputLayout.row(chunk.lowerBound, t, batch: batch, length: length)
                        let hFirst = outputLayout.row(chunk.lowerBound, t, batch: batch, length: length)
                        for r in 0..<rows {
                            let b = chunk.lowerBound + r
                            let row = (hFirst + r * hSequenceStride) * H
                            let step = (first + r) * H
                            let previousStep = step - batch * H    // read only for t > 0
                            let (iP, fP) = (gatesP + (first + r) * fused, gatesP + (first + r) * fused + H)
                            let (gP, oP) = (gatesP + (first + r) * fused + 2 * H, gatesP + (first + r) * fused + 3 * H)
                            let da = dAShared.base + (firstRow + r) * fused
                            let carry = b * H
                            // Units j ..< j + lanes (lanes 4, or 1 as lane 0 of a vector):
                            // the same code, specialised for each width.
                            @inline(__always) func units(_ j: Int, fourLanes: Bool) {
                                @inline(__always) func load(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
                                    fourLanes ? load4(p) : SIMD4(repeating: p.pointee)
                                }
                                @inline(__always) func store(_ v: SIMD4<Double>, _ p: UnsafeMutablePointer<Double>) {
                                    if fourLanes { store4(v, p) } else { p.pointee = v[0] }
                                }
                                let cPrevious = t > 0 ? load(cP + previousStep + j) : SIMD4<Double>()
                                let cellGradient = hasCellGradient ? load(dcP + row + j) : nil
                                let unit = gateGradients(i: load(iP + j), f: load(fP + j), g: load(gP + j),
                                                         o: load(oP + j), tanhC: load(tcP + step + j), cPrevious: cPrevious,
                                                         dh: load(dhP + row + j) + load(dhNext.base + carry + j),
                                                         dcCarried: load(dcNext.base + carry + j), dcFromAbove: cellGradient)
                                store(unit.da.0, da + j); store(unit.da.1, da + H + j)
                                store(unit.da.2, da + 2 * H + j); store(unit.da.3, da + 3 * H + j)
                                store(unit.dcCarry, dcNext.base + carry + j)
                            }
                            var j = 0
                            while j + 4 <= H {
                                units(j, fourLanes: true)
                                j += 4
                            }
                            while j < H {
                                units(j, fourLanes: false)
                                j += 1
                            }
                            // The weight gradients' operand row [1, x_t, h_{t-1}]
                            // (h only for t > 0), beside the row's gradients.
                            if weightGradients {
                                let operands = operandsShared.base + (firstRow + r) * width
                                operands[0] = 1
                                copy(xP + (xFirst + r * xSequenceStride) * inputSize, to: operands + 1, count: inputSize)
                                if t > 0 {
                                    let previousRow = outputLayout.row(b, t - 1, batch: batch, length: length) * H
                                    copy(hP + previousRow, to: operands + 1 + inputSize, count: H)
                                }
                            }
                        }
                        // dx_t = da [W_i<i>; ...; W_i<o>]^T and dh_next = da [W_h<i>; ...; W_h<o>]^T,
                        // each one sum from zero over the 4H pre-activations.
                        let daRows = MatrixProduct.Operand(UnsafePointer(dAShared.base) + firstRow * fused, rowStride: fused)
                        MatrixProduct.accumulate(rows: rows, a: daRows, packed: packedInputT,
                                                 c: dxP.base + xFirst * inputSize,
                                                 cRowStride: xSequenceStride * inputSize, startingFromZero: true)
                        guard t > 0 else { continue }
                        MatrixProduct.accumulate(rows: rows, a: daRows, packed: packedRecurrentT,
                                                 c: dhNext.base + chunk.lowerBound * H, cRowStride: H, startingFromZero: true)
                    }
                }
                guard weightGradients else { continue }
                // dW[w, c] += sum_b row_w(b, t) dA[(b, t), c] for t descending,
                // b ascending (the scalar kernel's order), with the block's
                // operand rows [1, x_t, h_{t-1}] as A^T: the bias is the
                // product with ones (`1 * v == v` exactly). The block's rows
                // lie in exactly that order (row s B + b for its s-th step
                // from the end), so its steps are one product with inner
                // length steps x B, each sum continuing from one step to the
                // next as it would over separate products. At t = 0 the h
                // rows are left out: that step, the last, is a product of its
                // own over the first 1 + in rows. Columns are split across
                // threads (panels of eight); each element's sum stays, in
                // order, in one thread.
                let fullSteps = blockEnd - max(blockStart, 1)
                Parallel.forEachChunk(of: panels) { panelChunk in
                    let columns = (panelChunk.lowerBound * 8)..<min(fused, panelChunk.upperBound * 8)
                    if fullSteps > 0 {
                        MatrixProduct.accumulate(rows: width, inner: fullSteps * batch, columns: columns.count,
                                                 a: .init(operandsShared.base, rowStride: 1, innerStride: width),
                                                 b: dAShared.base + columns.lowerBound,
                                                 bRowStride: fused, c: dwP.base + columns.lowerBound, cRowStride: fused)
                    }
                    if blockStart == 0 {
                        let firstRow = (blockEnd - 1) * batch
                        MatrixProduct.accumulate(rows: 1 + inputSize, inner: batch, columns: columns.count,
                                                 a: .init(operandsShared.base + firstRow * width, rowStride: 1, innerStride: width),
                                                 b: dAShared.base + firstRow * fused + columns.lowerBound,
                                                 bRowStride: fused, c: dwP.base + columns.lowerBound, cRowStride: fused)
                    }
                }
            }
        }}}}}}}}}}}

        guard weightGradients else { return (dx, nil) }
        func rows(_ range: Range<Int>) -> Tensor {
            Tensor(shape: [range.count, fused], storage: Array(dW.storage[(range.lowerBound * fused)..<(range.upperBound * fused)]))
        }
        let (dBias, dInputKernel, dRecurrentKernel) = (rows(0..<1).reshaped([fused]), rows(1..<(1 + inputSize)), rows((1 + inputSize)..<width))
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

    /// Steps per block of the backward time loop: a block's pre-activation
    /// gradients (`block x B x 4H` doubles) stay in cache between the pass
    /// that computes them and their products into dW.
    static let backwardTimeBlock = 4
}
