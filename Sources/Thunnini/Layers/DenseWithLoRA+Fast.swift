/// The fast twins of `DenseWithLoRA.forwardUnfused` and `backwardUnfused`
/// (Docs/performance.md): the adapter's term is added to each block of rows
/// of the main product as soon as the product has written it, while the
/// block is in cache, instead of in three more sweeps over tensors of
/// `rows x width` doubles in memory (the adapter's output, then reading it
/// and the main output back for the sum). Per element the operations are
/// those of the unfused passes, in the same order:
/// - `h[r, j]` (and `dh[r, j]`) is the Dense product `x A` (`dy B^T`), from
///   +0.0 in input order;
/// - the adapter's term of `y[r, o]` starts at `b_B[o]` (or +0.0) and adds
///   `h[r, j] B[j, o]` in j order, then `y[r, o] = y[r, o] + term`, as
///   `y += Dense.forward(h, B, b_B)` does; `dx[r, i] = dx[r, i] + term`
///   likewise with the term `dh[r, j] A[i, j]` from +0.0.
/// Rows are independent outputs, so the results are bit for bit those of
/// the unfused passes at any thread count; the weight gradients are the
/// same Dense products as before.
extension DenseWithLoRA {
    /// Fast twin of `forwardUnfused`.
    static func forwardFast(_ x: Tensor, parameters p: Parameters) -> (output: Tensor, cache: Cache) {
        guard let loraIn = p.loraInKernel, let loraOut = p.loraOutKernel else {
            return (Dense.forwardFast(x, kernel: p.kernel, bias: p.bias), Cache(input: x, loraHidden: nil))
        }
        let (inFeatures, rank, outFeatures) = (loraIn.shape[0], loraIn.shape[1], loraOut.shape[1])
        precondition(loraIn.rank == 2 && loraOut.shape == [rank, p.kernel.shape[1]] && p.kernel.shape[0] == inFeatures,
                     "LoRA kernels \(loraIn.shape) and \(loraOut.shape) do not fit the kernel \(p.kernel.shape)")
        let loraOutBias = p.loraOutBias ?? Tensor.zeros([0])
        let hasLoRABias = p.loraOutBias != nil
        var y = Tensor.zeros([0])
        // Every element of h is written, block by block.
        let hidden = Tensor(shape: Array(x.shape.dropLast()) + [rank]) { hP in
            let h = SharedPointer(hP)
            x.withPointer { xP in loraIn.withPointer { aP in loraOut.withPointer { bP in loraOutBias.withPointer { biasP in
                y = Dense.forwardFast(x, kernel: p.kernel, bias: p.bias) { rows, yP in
                    MatrixProduct.accumulate(rows: rows.count, inner: inFeatures, columns: rank,
                                             a: .init(xP + rows.lowerBound * inFeatures, rowStride: inFeatures),
                                             b: aP, bRowStride: rank,
                                             c: h.base + rows.lowerBound * rank, cRowStride: rank, startingFromZero: true)
                    addLowRankTerm(rows: rows, rank: rank, columns: outFeatures, h: h.base, factor: bP,
                                   start: hasLoRABias ? biasP : nil, into: yP)
                }
            }}}}
        }
        return (y, Cache(input: x, loraHidden: hidden))
    }

    /// Fast twin of `backwardUnfused` (and, without `parameterGradients`,
    /// of its input gradient alone; `parameters` is then nil).
    static func backwardFast(_ dy: Tensor, cache: Cache, parameters p: Parameters,
                             parameterGradients: Bool) -> (input: Tensor, parameters: Parameters?) {
        let hasBias = p.bias != nil
        guard let loraIn = p.loraInKernel, let loraOut = p.loraOutKernel, let hidden = cache.loraHidden else {
            guard parameterGradients else {
                return (Dense.inputGradientFast(dy, inputShape: cache.input.shape, kernel: p.kernel), nil)
            }
            let main = Dense.backwardFast(dy, x: cache.input, kernel: p.kernel, hasBias: hasBias)
            return (main.input, Parameters(kernel: main.kernel, bias: main.bias))
        }
        let (inFeatures, rank, outFeatures) = (loraIn.shape[0], loraIn.shape[1], loraOut.shape[1])
        // The kernels of the adapter's input gradients, B^T [out, r] and
        // A^T [r, in], as `Dense.inputGradient` transposes them.
        let (loraOutT, loraInT) = (loraOut.transposedMatrix, loraIn.transposedMatrix)
        var dx = Tensor.zeros([0])
        // Every element of dh is written, block by block.
        let dHidden = Tensor(shape: hidden.shape) { dhP in
            let dh = SharedPointer(dhP)
            dy.withPointer { dyP in loraOutT.withPointer { btP in loraInT.withPointer { atP in
                dx = Dense.inputGradientFast(dy, inputShape: cache.input.shape, kernel: p.kernel) { rows, dxP in
                    MatrixProduct.accumulate(rows: rows.count, inner: outFeatures, columns: rank,
                                             a: .init(dyP + rows.lowerBound * outFeatures, rowStride: outFeatures),
                                             b: btP, bRowStride: rank,
                                             c: dh.base + rows.lowerBound * rank, cRowStride: rank, startingFromZero: true)
                    addLowRankTerm(rows: rows, rank: rank, columns: inFeatures, h: dh.base, factor: atP, start: nil, into: dxP)
                }
            }}}
        }
        guard parameterGradients else { return (dx, nil) }
        let main = Dense.parameterGradientsFast(dy, x: cache.input, kernel: p.kernel, hasBias: hasBias)
        let outer = Dense.parameterGradientsFast(dy, x: hidden, kernel: loraOut, hasBias: p.loraOutBias != nil)
        let inner = Dense.parameterGradientsFast(dHidden, x: cache.input, kernel: loraIn, hasBias: false)
        return (dx, Parameters(kernel: main.kernel, bias: main.bias, loraInKernel: inner.kernel,
                               loraOutKernel: outer.kernel, loraOutBias: outer.bias))
    }

    /// `y[r, c] = y[r, c] + (start[c] + sum_j h[r, j] factor[j, c])` for the
    /// rows `rows` (the sum from +0.0 without `start`, j ascending): a
    /// rank-`rank` product added to the `columns`-wide rows of y, eight
    /// columns at a time, then one by one.
    @inline(__always)
    static func addLowRankTerm(rows: Range<Int>, rank: Int, columns: Int, h: UnsafePointer<Double>,
                               factor: UnsafePointer<Double>, start: UnsafePointer<Double>?,
                               into y: UnsafeMutablePointer<Double>) {
        for r in rows {
            let hRow = h + r * rank, yRow = y + r * columns
            var c = 0
            while c + 8 <= columns {
                var term: SIMD8<Double> = start.map { MatrixProduct.loadVector($0 + c) as SIMD8<Double> } ?? SIMD8()
                for j in 0..<rank {
                    term += SIMD8(repeating: hRow[j]) * (MatrixProduct.loadVector(factor + j * columns + c) as SIMD8<Double>)
                }
                MatrixProduct.storeVector((MatrixProduct.loadVector(yRow + c) as SIMD8<Double>) + term, yRow + c)
                c += 8
            }
            while c < columns {
                var term = start?[c] ?? 0
                for j in 0..<rank { term += hRow[j] * factor[j * columns + c] }
                yRow[c] = yRow[c] + term
                c += 1
            }
        }
    }
}
