import Foundation
import Testing
@testable import Thunnini

/// Every fast kernel against its scalar reference twin, bit for bit, on random
/// shapes that include the ragged cases (1, odd sizes, sizes that are not
/// multiples of the SIMD width or of the row block, inner lengths across the
/// k-block boundary). Equality is exact (`==` on the storage), so a fast
/// kernel that reorders a sum, fuses a multiply-add, drops a term or mixes up
/// an index fails here even when the difference is one ulp.
@Suite("Kernel twins: fast == scalar reference, bit for bit")
struct KernelTwinTests {
    /// Bitwise equality that also treats NaNs with equal payloads as equal.
    static func sameBits(_ a: Tensor, _ b: Tensor) -> Bool {
        a.shape == b.shape && zip(a.storage, b.storage).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    @Test("MatrixProduct.accumulate == accumulateReference (plain, transposed A, strided B and C)",
          arguments: [(1, 1, 1), (1, 7, 9), (3, 5, 8), (4, 16, 8), (5, 17, 13), (9, 3, 31), (13, 255, 20),
                      (6, 256, 12), (7, 257, 17), (17, 600, 33), (2, 0, 5), (33, 64, 256), (10, 40, 16), (64, 80, 256),
                      // Row remainders of 2 and 3 after the 6-row blocks, column
                      // remainders of 2 and 3 after the 8- and 4-column blocks
                      // (a two-token unembedding's shapes among them).
                      (8, 33, 2), (14, 9, 10), (11, 70, 26), (32, 300, 2), (15, 5, 3), (5, 12, 7),
                      // Four columns (a rank-4 LoRA factor) with 4-row blocks and a remainder.
                      (19, 16, 4), (9, 4, 14),
                      // Several groups of panels (`panelGroup`: at most 25
                      // panels at depth 80, 8 at depth 250 or 256, shared
                      // evenly: 33 panels at depth 80 go as 17 + 16), and k
                      // blocks whose depths give different group sizes (256
                      // then 40).
                      (13, 296, 99), (7, 250, 130), (9, 1000, 70), (12, 80, 264),
                      // More rows than a transposed A is copied for at once
                      // (`transposedRowLimit`): the per-block copies (eight
                      // panels) and the strided loop (two).
                      (515, 20, 70), (520, 9, 20)])
    func matrixProduct(rows: Int, inner: Int, columns: Int) {
        var generator = LayerTestGenerator(seed: UInt64(rows * 1_000_003 + inner * 1009 + columns))
        for transposedA in [false, true] {
            let a = generator.tensor([max(1, rows * inner)])
            let bRowStride = columns + 3   // B and C as sub-matrices of wider ones
            let cRowStride = columns + 1
            let b = generator.tensor([max(1, inner * bRowStride)])
            let c0 = generator.tensor([max(1, rows * cRowStride)])
            let startRow = generator.tensor([max(1, columns)])
            /// C += A B by the fast kernel or the reference, each sum starting
            /// at C's value, at zero, or at `startRow`.
            func product(_ c: Tensor, fast: Bool, fromZero: Bool = false, fromRow: Bool = false, prepared: Bool = false) -> Tensor {
                var c = c
                a.withPointer { aP in b.withPointer { bP in startRow.withPointer { rowP in
                    let operand = transposedA ? MatrixProduct.Operand(aP, rowStride: 1, innerStride: rows)
                                              : MatrixProduct.Operand(aP, rowStride: inner, innerStride: 1)
                    let row = fromRow ? rowP : nil
                    c.withMutablePointer { cP in
                        if prepared {
                            let packed = MatrixProduct.PackedB(bP, inner: inner, columns: columns, bRowStride: bRowStride)
                            MatrixProduct.accumulate(rows: rows, a: operand, packed: packed, c: cP, cRowStride: cRowStride,
                                                     startingFromZero: fromZero, startingFromRow: row)
                        } else if fast {
                            MatrixProduct.accumulate(rows: rows, inner: inner, columns: columns, a: operand, b: bP,
                                                     bRowStride: bRowStride, c: cP, cRowStride: cRowStride,
                                                     startingFromZero: fromZero, startingFromRow: row)
                        } else {
                            MatrixProduct.accumulateReference(rows: rows, inner: inner, columns: columns, a: operand, b: bP,
                                                              bRowStride: bRowStride, c: cP, cRowStride: cRowStride,
                                                              startingFromZero: fromZero, startingFromRow: row)
                        }
                    }
                }}}
                return c
            }
            /// Whether the outputs (not the padding between rows) have the same bits.
            func sameOutputs(_ x: Tensor, _ y: Tensor) -> Bool {
                (0..<rows).allSatisfy { r in
                    (0..<columns).allSatisfy { x.storage[r * cRowStride + $0].bitPattern == y.storage[r * cRowStride + $0].bitPattern }
                }
            }
            let fast = product(c0, fast: true)
            #expect(Self.sameBits(fast, product(c0, fast: false)),
                    "rows \(rows) inner \(inner) columns \(columns) transposed \(transposedA)")
            // With B prepared once (PackedB): the same bits. Fails if a
            // prepared panel were read at the wrong k block or panel offset.
            #expect(Self.sameBits(product(c0, fast: true, prepared: true), fast), "prepared B")
            // The padding between strided rows is never written.
            for r in 0..<rows {
                #expect(fast.storage[r * cRowStride + columns] == c0.storage[r * cRowStride + columns])
            }
            // Starting from zero: C's previous values (NaN here) are never
            // read, and the result equals the reference on a zeroed C. Fails
            // if a block loaded C, or if a k block after the first restarted
            // from zero (inner > 256 cases).
            let unread = Tensor(shape: c0.shape, repeating: .nan)
            let fromZero = product(unread, fast: true, fromZero: true)
            #expect(sameOutputs(fromZero, product(Tensor.zeros(c0.shape), fast: false)))
            #expect(sameOutputs(fromZero, product(unread, fast: false, fromZero: true)))
            // Starting from a row (a bias): C (NaN) is never read, and each
            // sum equals the reference's on a C whose every row holds that
            // row. Fails if a block started from C or zero, used the wrong
            // column of the row, or a later k block restarted from the row.
            var filled = Tensor.zeros(c0.shape)
            for r in 0..<rows {
                for column in 0..<columns { filled.storage[r * cRowStride + column] = startRow.storage[column] }
            }
            let fromRow = product(unread, fast: true, fromRow: true)
            #expect(sameOutputs(fromRow, product(filled, fast: false)))
            #expect(sameOutputs(product(unread, fast: true, fromRow: true, prepared: true), fromRow))
            #expect(sameOutputs(fromRow, product(unread, fast: false, fromRow: true)))
        }
    }

    // (130, 40, 20), (200, 300, 44) and (150, 36, 300): more rows than one
    // 64-row block, so W's (and W^T's) panels are copied once before the
    // row blocks and threads share them (`MatrixProduct.packedPanels`), in
    // one k block, in two of different depths (256 and 44), and with
    // ragged columns after the panels; fails if a block read another k
    // block's or panel's copy.
    @Test("Dense forward and backward twins",
          arguments: [(1, 1, 1), (3, 5, 2), (7, 16, 9), (40, 3, 17), (65, 12, 8), (130, 40, 20), (200, 300, 44),
                      (150, 36, 300)])
    func dense(rows: Int, inFeatures: Int, outFeatures: Int) {
        var generator = LayerTestGenerator(seed: UInt64(rows * 97 + inFeatures * 13 + outFeatures))
        let x = generator.tensor([rows, inFeatures])
        let kernel = generator.tensor([inFeatures, outFeatures])
        let bias = generator.tensor([outFeatures])
        let dy = generator.tensor([rows, outFeatures])
        for withBias in [false, true] {
            #expect(Self.sameBits(Dense.forwardFast(x, kernel: kernel, bias: withBias ? bias : nil),
                                  Dense.forwardReference(x, kernel: kernel, bias: withBias ? bias : nil)))
            let fast = Dense.backwardFast(dy, x: x, kernel: kernel, hasBias: withBias)
            let reference = Dense.backwardReference(dy, x: x, kernel: kernel, hasBias: withBias)
            #expect(Self.sameBits(fast.input, reference.input))
            #expect(Self.sameBits(fast.kernel, reference.kernel))
            #expect(fast.bias.map { b in Self.sameBits(b, reference.bias!) } ?? (reference.bias == nil))
            // The input gradient alone (prefix tuning), and the forward
            // pass, at 3 threads (65 rows: two chunks).
            let inputOnly = Parallel.$threadCountOverride.withValue(3) {
                Dense.inputGradient(dy, x: x, kernel: kernel, hasBias: withBias)
            }
            #expect(Self.sameBits(inputOnly, reference.input))
            let forwardThreads = Parallel.$threadCountOverride.withValue(3) {
                Dense.forwardFast(x, kernel: kernel, bias: withBias ? bias : nil)
            }
            #expect(Self.sameBits(forwardThreads, Dense.forwardReference(x, kernel: kernel, bias: withBias ? bias : nil)))
        }
    }

    // Rows across several 64-row blocks (and 3 threads' chunks), widths
    // with and without a remainder after eight columns, ranks 1, 4 and 5.
    /// The fused adapter (`DenseWithLoRA+Fast.swift`) against the unfused
    /// passes under the reference kernels: output, h, input gradient (with
    /// and without the weight gradients) and every weight gradient, with
    /// and without biases, at 1 and 3 threads. Fails if the adapter's term
    /// started from zero instead of b_B, was added into the wrong rows or
    /// columns of a block, summed its rank terms in another order, or if
    /// the input gradient lost the dh A^T term.
    @Test("DenseWithLoRA fused forward and backward equal the unfused passes",
          arguments: [(1, 3, 1, 5), (9, 16, 4, 16), (70, 12, 5, 19), (150, 40, 4, 24)])
    func denseWithLoRA(rows: Int, inFeatures: Int, rank: Int, outFeatures: Int) {
        var generator = LayerTestGenerator(seed: UInt64(rows * 31 + inFeatures * 7 + rank * 3 + outFeatures))
        let x = generator.tensor([rows, inFeatures])
        let dy = generator.tensor([rows, outFeatures])
        for withBias in [false, true] {
            let p = DenseWithLoRA.Parameters(kernel: generator.tensor([inFeatures, outFeatures]),
                                             bias: withBias ? generator.tensor([outFeatures]) : nil,
                                             loraInKernel: generator.tensor([inFeatures, rank]),
                                             loraOutKernel: generator.tensor([rank, outFeatures]),
                                             loraOutBias: withBias ? generator.tensor([outFeatures]) : nil)
            let (reference, referenceGradients) = KernelMode.$useReferenceKernels.withValue(true) {
                let forward = DenseWithLoRA.forward(x, parameters: p)
                return (forward, DenseWithLoRA.backward(dy, cache: forward.cache, parameters: p))
            }
            for threads in [1, 3] {
                Parallel.$threadCountOverride.withValue(threads) {
                    let fast = DenseWithLoRA.forward(x, parameters: p)
                    #expect(Self.sameBits(fast.output, reference.output), "output, bias \(withBias), \(threads) threads")
                    #expect(Self.sameBits(fast.cache.loraHidden!, reference.cache.loraHidden!), "h")
                    let gradients = DenseWithLoRA.backward(dy, cache: fast.cache, parameters: p)
                    #expect(Self.sameBits(gradients.input, referenceGradients.input), "dx, bias \(withBias), \(threads) threads")
                    #expect(Self.sameBits(DenseWithLoRA.inputGradient(dy, cache: fast.cache, parameters: p), referenceGradients.input))
                    let (g, r) = (gradients.parameters, referenceGradients.parameters)
                    #expect(Self.sameBits(g.kernel, r.kernel) && Self.sameBits(g.loraInKernel!, r.loraInKernel!)
                            && Self.sameBits(g.loraOutKernel!, r.loraOutKernel!), "weight gradients")
                    #expect((g.bias == nil && r.bias == nil) || Self.sameBits(g.bias!, r.bias!))
                    #expect((g.loraOutBias == nil && r.loraOutBias == nil) || Self.sameBits(g.loraOutBias!, r.loraOutBias!))
                }
            }
        }
    }

    // (70, 9, 3, 6): a block of four steps holds 280 rows, so the block's
    // single weight-gradient product crosses the matrix product's k block.
    @Test("LSTM forward (every cached tensor) and backward twins, with and without a cell gradient",
          arguments: [(1, 1, 1, 1), (2, 3, 1, 4), (5, 7, 3, 5), (9, 2, 16, 8), (4, 6, 2, 13), (3, 4, 5, 37), (70, 9, 3, 6)])
    func lstm(batch: Int, length: Int, inputSize: Int, hiddenSize: Int) {
        var generator = LayerTestGenerator(seed: UInt64(batch * 1000 + length * 100 + inputSize * 10 + hiddenSize))
        let p = LSTMTests.parameters(&generator, input: inputSize, hidden: hiddenSize, kernelScale: 0.5)
        let x = generator.tensor([batch, length, inputSize])
        let fast = LSTM.forwardFast(x, parameters: p)
        let reference = LSTM.forwardReference(x, parameters: p)
        for threads in [1, 3] {
            let hiddensOnly = Parallel.$threadCountOverride.withValue(threads) { LSTM.hiddensOnly(x, parameters: p) }
            #expect(Self.sameBits(hiddensOnly, reference.hiddens), "hiddensOnly at \(threads) threads")
        }
        for (name, f, r) in [("hiddens", fast.hiddens, reference.hiddens), ("cache hiddens", fast.cache.hiddens, reference.cache.hiddens),
                             ("cells", fast.cache.cellsByStep, reference.cache.cellsByStep),
                             ("gates", fast.cache.gates, reference.cache.gates),
                             ("tanh c", fast.cache.tanhCellsByStep, reference.cache.tanhCellsByStep)] {
            #expect(Self.sameBits(f, r), "\(name)")
        }
        let dHiddens = generator.tensor([batch, length, hiddenSize])
        let dCells = generator.tensor([batch, length, hiddenSize])
        for cellGradient in [nil, dCells] {
            let f = LSTM.backwardFast(dHiddens: dHiddens, dCells: cellGradient, cache: fast.cache, parameters: p)
            let r = LSTM.backwardReference(dHiddens: dHiddens, dCells: cellGradient, cache: reference.cache, parameters: p)
            #expect(Self.sameBits(f.input, r.input))
            for (fg, rg) in zip(f.parameters.gates, r.parameters.gates) {
                #expect(Self.sameBits(fg.inputKernel, rg.inputKernel))
                #expect(Self.sameBits(fg.recurrentKernel, rg.recurrentKernel))
                #expect(Self.sameBits(fg.recurrentBias, rg.recurrentBias))
            }
        }
    }

    // The fast kernels in every pair of layouts against the reference on
    // batch-major copies. Catches a row of x, h, dh, dc or dx found with the
    // other layout's stride (a wrong sequence read or written), and a
    // reference dispatcher that hands the reference kernel rows it does not
    // expect. (70, 9, 3, 6): two chunks at 3 threads and a block whose rows
    // cross the matrix product's k block.
    @Test("LSTM fast kernels in time-major and batch-major layouts equal the reference, at 1 and 3 threads",
          arguments: [(1, 1, 1, 1), (5, 7, 3, 5), (4, 6, 2, 13), (70, 9, 3, 6)])
    func lstmLayouts(batch: Int, length: Int, inputSize: Int, hiddenSize: Int) {
        var generator = LayerTestGenerator(seed: UInt64(7 + batch * 1000 + length * 100 + inputSize * 10 + hiddenSize))
        let p = LSTMTests.parameters(&generator, input: inputSize, hidden: hiddenSize, kernelScale: 0.5)
        let x = generator.tensor([batch, length, inputSize])
        let (dHiddens, dCells) = (generator.tensor([batch, length, hiddenSize]), generator.tensor([batch, length, hiddenSize]))
        let reference = LSTM.forwardReference(x, parameters: p)
        let referenceBackward = LSTM.backwardReference(dHiddens: dHiddens, dCells: dCells, cache: reference.cache, parameters: p)
        let layouts: [LSTM.SequenceLayout] = [.batchMajor, .timeMajor]
        for input in layouts {
            for output in layouts {
                let label = "input \(input), output \(output)"
                func into(_ tensor: Tensor, _ layout: LSTM.SequenceLayout) -> Tensor {
                    LSTM.rearranged(tensor, from: .batchMajor, to: layout)
                }
                let xIn = into(x, input)
                for threads in [1, 3] {
                    Parallel.$threadCountOverride.withValue(threads) {
                        let fast = LSTM.forwardFast(xIn, parameters: p, inputLayout: input, outputLayout: output)
                        #expect(Self.sameBits(fast.hiddens, into(reference.hiddens, output)), "hiddens, \(label)")
                        #expect(Self.sameBits(fast.cache.cells, reference.cache.cells), "cells, \(label)")
                        #expect(Self.sameBits(fast.cache.gates, reference.cache.gates), "gates, \(label)")
                        let hiddensOnly = LSTM.hiddensOnly(xIn, parameters: p, inputLayout: input, outputLayout: output)
                        #expect(Self.sameBits(hiddensOnly, into(reference.hiddens, output)), "hiddensOnly, \(label)")
                        let backward = LSTM.backwardFast(dHiddens: into(dHiddens, output), dCells: into(dCells, output),
                                                         cache: fast.cache, parameters: p)
                        #expect(Self.sameBits(backward.input, into(referenceBackward.input, input)), "dx, \(label)")
                        for (f, r) in zip(backward.parameters.gates, referenceBackward.parameters.gates) {
                            #expect(Self.sameBits(f.inputKernel, r.inputKernel) && Self.sameBits(f.recurrentKernel, r.recurrentKernel)
                                    && Self.sameBits(f.recurrentBias, r.recurrentBias), "weight gradients, \(label)")
                        }
                        let inputOnly = LSTM.inputGradient(dHiddens: into(dHiddens, output), dCells: into(dCells, output),
                                                           cache: fast.cache, parameters: p)
                        #expect(Self.sameBits(inputOnly, into(referenceBackward.input, input)), "input gradient, \(label)")
                    }
                }
                // The public entry points under the reference kernels: the
                // reference runs on batch-major copies, its results come back
                // in the caller's layouts, and its backward pass also reads a
                // cache that the fast forward pass wrote.
                KernelMode.$useReferenceKernels.withValue(true) {
                    let viaReference = LSTM.forward(xIn, parameters: p, inputLayout: input, outputLayout: output)
                    #expect(Self.sameBits(viaReference.hiddens, into(reference.hiddens, output)), "reference hiddens, \(label)")
                    let fastCache = LSTM.forwardFast(xIn, parameters: p, inputLayout: input, outputLayout: output).cache
                    for cache in [viaReference.cache, fastCache] {
                        let backward = LSTM.backward(dHiddens: into(dHiddens, output), dCells: into(dCells, output),
                                                     cache: cache, parameters: p)
                        #expect(Self.sameBits(backward.input, into(referenceBackward.input, input)), "reference dx, \(label)")
                        #expect(Self.sameBits(backward.parameters.inputGate.inputKernel,
                                              referenceBackward.parameters.inputGate.inputKernel), "reference dW_ii, \(label)")
                    }
                }
            }
        }
    }

    @Test("Sequence layouts: rearranging moves rows, and back again gives the same tensor")
    func sequenceLayouts() {
        // [2, 3, 2] batch-major: row (b, t) holds (10 b + t, -(10 b + t)).
        var values: [Double] = []
        for b in 0..<2 { for t in 0..<3 { values += [Double(10 * b + t), -Double(10 * b + t)] } }
        let batchMajor = Tensor(shape: [2, 3, 2], storage: values)
        let timeMajor = LSTM.rearranged(batchMajor, from: .batchMajor, to: .timeMajor)
        // Time-major: [3, 2, 2], row (t, b); catches a transposition of the
        // wrong axes or a row written to the batch-major position.
        #expect(timeMajor.shape == [3, 2, 2])
        #expect(timeMajor.storage == [0, -0, 10, -10, 1, -1, 11, -11, 2, -2, 12, -12])
        #expect(LSTM.rearranged(timeMajor, from: .timeMajor, to: .batchMajor) == batchMajor)
        #expect(LSTM.rearranged(batchMajor, from: .batchMajor, to: .batchMajor) == batchMajor)
    }

    @Test("GELU forward and backward twins (40003 elements: several chunks at 3 threads, a ragged last chunk)",
          arguments: [1, 3, 4, 5, 8, 31, 40_003])
    func gelu(count: Int) {
        var generator = LayerTestGenerator(seed: UInt64(count))
        let x = generator.tensor([count], scale: 3)
        let dy = generator.tensor([count])
        Parallel.$threadCountOverride.withValue(3) {
            #expect(Self.sameBits(GELU.forwardFast(x), GELU.forwardReference(x)))
            #expect(Self.sameBits(GELU.backwardFast(dy, x: x), GELU.backwardReference(dy, x: x)))
            // The training path: tanh(u) kept by the forward pass and read by
            // the backward pass. Catches a kept tanh that is not the one the
            // reference recomputes (another u, a tail lane not stored).
            let (output, tanhOfU) = GELU.forwardKeepingTanh(x)
            #expect(Self.sameBits(output, GELU.forwardReference(x)))
            if let tanhOfU {
                #expect(Self.sameBits(GELU.backward(dy, x: x, tanhOfU: tanhOfU), GELU.backwardReference(dy, x: x)))
            } else {
                Issue.record("forwardKeepingTanh kept no tanh with the fast kernels")
            }
        }
    }

    @Test("GELU fused with its Dense layers (the transformer's MLP) equals the separate reference passes, at 1 and 3 threads",
          arguments: [(1, 3, 5), (7, 16, 37), (100, 16, 64), (130, 5, 24), (200, 3, 1)])
    func geluAfterDense(rows: Int, inFeatures: Int, outFeatures: Int) {
        var generator = LayerTestGenerator(seed: UInt64(rows * 1000 + inFeatures * 10 + outFeatures))
        let x = generator.tensor([rows, inFeatures])
        let kernel = generator.tensor([inFeatures, outFeatures], scale: 2)
        let bias = generator.tensor([outFeatures])
        let dy = generator.tensor([rows, inFeatures])    // upstream of the next Dense layer (out -> in)
        let nextKernel = generator.tensor([outFeatures, inFeatures])
        let (widened, activated) = KernelMode.$useReferenceKernels.withValue(true) {
            let widened = Dense.forward(x, kernel: kernel, bias: bias)
            return (widened, GELU.forward(widened))
        }
        let dWidened = KernelMode.$useReferenceKernels.withValue(true) {
            GELU.backward(Dense.backward(dy, x: activated, kernel: nextKernel, hasBias: true).input, x: widened)
        }
        // Rows 100, 130 and 200 span several 64-row blocks and, at 3
        // threads, several chunks; widths 5, 37 and 1 leave partial slots
        // inside and at the end of each block. Fails if a block's GELU
        // missed or repeated elements, read the wrong rows, or kept a tanh
        // that is not the reference's.
        for threads in [1, 3] {
            Parallel.$threadCountOverride.withValue(threads) {
                let fused = GELU.forwardAfterDense(x, kernel: kernel, bias: bias, keepingTanh: true)
                #expect(Self.sameBits(fused.widened, widened), "widened, \(threads) threads")
                #expect(Self.sameBits(fused.activated, activated), "activated, \(threads) threads")
                let withoutTanh = GELU.forwardAfterDense(x, kernel: kernel, bias: bias, keepingTanh: false)
                #expect(withoutTanh.tanhOfU == nil && Self.sameBits(withoutTanh.activated, activated))
                guard let tanhOfU = fused.tanhOfU else {
                    Issue.record("forwardAfterDense kept no tanh with the fast kernels")
                    return
                }
                #expect(Self.sameBits(GELU.backwardThroughDense(dy, kernel: nextKernel, x: fused.widened, tanhOfU: tanhOfU),
                                      dWidened), "dWidened, \(threads) threads")
            }
        }
    }

    @Test("Whole predictor: outputs and gradients equal with reference and fast kernels, at 1 and 3 threads",
          arguments: TorsoCases.names)
    func predictor(torso: String) throws {
        let predictor = try TorsoCases.predictor(torso)
        let parameters = TorsoCases.noisyParameters(predictor)
        let sequences = TorsoCases.sequences(batch: 9, length: 5)
        for prefixType in PrefixType.allCases {
            let prefix = TorsoCases.prefix(prefixType)
            func run() throws -> (Predictor.Output, (parameters: ParameterTree, prefix: Tensor?)) {
                let output = try predictor.forward(parameters: parameters, sequences: sequences, prefix: prefix)
                return (output, predictor.gradients(parameters: parameters, sequences: sequences, prefix: prefix, output: output))
            }
            let reference = try KernelMode.$useReferenceKernels.withValue(true) { try run() }
            for threads in [1, 3] {
                let fast = try Parallel.$threadCountOverride.withValue(threads) { try run() }
                #expect(Self.sameBits(fast.0.logits, reference.0.logits), "\(torso) \(prefixType) logits at \(threads) threads")
                #expect(fast.0.loss.bitPattern == reference.0.loss.bitPattern)
                // Evaluation's forward pass without the cache (the LSTM's
                // reusable step buffers) gives the same log-probabilities.
                // Fails if h_t reached the operand row before step t's product
                // read h_{t-1}, if a chunk read another chunk's rows, or if the
                // torso skipped a layer.
                let evaluation = try Parallel.$threadCountOverride.withValue(threads) {
                    try predictor.forward(parameters: parameters, sequences: sequences, prefix: prefix, forBackward: false)
                }
                #expect(Self.sameBits(evaluation.logProbabilities, reference.0.logProbabilities),
                        "\(torso) \(prefixType) forward without cache at \(threads) threads")
                for path in reference.1.parameters.paths {
                    #expect(Self.sameBits(fast.1.parameters[path], reference.1.parameters[path]), "\(torso) \(prefixType) \(path) at \(threads) threads")
                }
                if let referencePrefix = reference.1.prefix {
                    #expect(Self.sameBits(fast.1.prefix!, referencePrefix))
                    // The prefix-only backward pass (no parameter gradients,
                    // as prefix tuning runs it) gives the same prefix gradient
                    // in both kernel modes. Fails if skipping the weight
                    // gradients changed the input gradient's computation.
                    for useReference in [false, true] {
                        let prefixOnly = try Parallel.$threadCountOverride.withValue(threads) {
                            try KernelMode.$useReferenceKernels.withValue(useReference) {
                                predictor.gradients(parameters: parameters, sequences: sequences, prefix: prefix,
                                                    output: try predictor.forward(parameters: parameters, sequences: sequences, prefix: prefix),
                                                    parameterGradients: false)
                            }
                        }
                        #expect(Self.sameBits(prefixOnly.prefix!, referencePrefix), "\(torso) \(prefixType) prefix-only")
                        #expect(prefixOnly.parameters.paths.isEmpty)
                    }
                }
            }
        }
    }
}

/// The remaining twins: LayerNorm and the attention core.
@Suite("Kernel twins: LayerNorm and attention")
struct NormAttentionTwinTests {
    @Test("LayerNorm forward and backward twins", arguments: [(1, 1), (3, 4), (70, 5), (129, 16)])
    func layerNorm(rows: Int, features: Int) {
        var generator = LayerTestGenerator(seed: UInt64(rows * 31 + features))
        let x = generator.tensor([rows, features])
        let scale = generator.tensor([features])
        let bias = generator.tensor([features])
        let dy = generator.tensor([rows, features])
        for withBias in [false, true] {
            let fast = LayerNorm.forwardFast(x, scale: scale, bias: withBias ? bias : nil)
            let reference = LayerNorm.forwardReference(x, scale: scale, bias: withBias ? bias : nil)
            #expect(KernelTwinTests.sameBits(fast.output, reference.output))
            #expect(KernelTwinTests.sameBits(fast.cache.rstd, reference.cache.rstd))
            let fastBackward = LayerNorm.backwardFast(dy, x: x, scale: scale, cache: fast.cache, hasBias: withBias)
            let referenceBackward = LayerNorm.backwardReference(dy, x: x, scale: scale, cache: reference.cache, hasBias: withBias)
            #expect(KernelTwinTests.sameBits(fastBackward.input, referenceBackward.input))
            #expect(KernelTwinTests.sameBits(fastBackward.scale, referenceBackward.scale))
            #expect(fastBackward.bias.map { KernelTwinTests.sameBits($0, referenceBackward.bias!) } ?? (referenceBackward.bias == nil))
        }
    }

    // Lengths 4, 7 and 50 as well: the weighted sums run four rows at a
    // time, so lengths of every remainder mod 4 (and none) are covered, with
    // head widths that are and are not multiples of four.
    @Test("attention core forward and backward twins",
          arguments: [(1, 1, 1, 1), (3, 5, 4, 2), (5, 9, 6, 3), (2, 37, 16, 4), (2, 21, 30, 3),
                      (2, 4, 8, 2), (3, 7, 12, 2), (2, 50, 16, 4),
                      // Head widths of 12 and 32 (eight features per chain,
                      // then four; the notebook's 128 / 4) at lengths whose
                      // rows cross one and two 32-key score blocks, with an
                      // 8-key and a 4-key remainder after them.
                      (2, 46, 24, 2), (1, 77, 64, 2)])
    func attention(batch: Int, length: Int, width: Int, heads: Int) {
        var generator = LayerTestGenerator(seed: UInt64(batch * 100 + length * 10 + width))
        let (q, k, v) = (generator.tensor([batch, length, width]), generator.tensor([batch, length, width]), generator.tensor([batch, length, width]))
        // The fast kernel writes every element (NaN left anywhere would fail);
        // the reference adds into zeros.
        var pFast = Tensor(shape: [batch, heads, length, length], repeating: .nan)
        var mFast = Tensor(shape: [batch, length, width], repeating: .nan)
        var pReference = Tensor.zeros([batch, heads, length, length]), mReference = Tensor.zeros([batch, length, width])
        MultiHeadAttention.attendFast(q: q, k: k, v: v, headCount: heads, probabilities: &pFast, merged: &mFast)
        MultiHeadAttention.attendReference(q: q, k: k, v: v, headCount: heads, probabilities: &pReference, merged: &mReference)
        #expect(KernelTwinTests.sameBits(pFast, pReference))
        #expect(KernelTwinTests.sameBits(mFast, mReference))
        // Without the probabilities tensor (a forward pass for evaluation),
        // each thread reuses one head's buffer: the merged heads are the
        // same bits at 1 and 3 threads. Fails if a (sequence, head) read
        // another's scores left in the shared buffer, or if the buffer's
        // causal mask leaked into a later row's softmax.
        for threads in [1, 3] {
            let mergedOnly = Parallel.$threadCountOverride.withValue(threads) {
                MultiHeadAttention.attendFastMergedOnly(q: q, k: k, v: v, headCount: heads)
            }
            #expect(KernelTwinTests.sameBits(mergedOnly, mReference), "merged heads without probabilities, \(threads) threads")
        }
        let dMerged = generator.tensor([batch, length, width])
        var (dqF, dkF, dvF) = (Tensor.zeros([batch, length, width]), Tensor.zeros([batch, length, width]), Tensor.zeros([batch, length, width]))
        var (dqR, dkR, dvR) = (dqF, dkF, dvF)
        MultiHeadAttention.attendBackwardFast(dMerged: dMerged, q: q, k: k, v: v, probabilities: pFast, headCount: heads, dq: &dqF, dk: &dkF, dv: &dvF)
        MultiHeadAttention.attendBackwardReference(dMerged: dMerged, q: q, k: k, v: v, probabilities: pReference, headCount: heads, dq: &dqR, dk: &dkR, dv: &dvR)
        #expect(KernelTwinTests.sameBits(dqF, dqR) && KernelTwinTests.sameBits(dkF, dkR) && KernelTwinTests.sameBits(dvF, dvR))
    }
}
