/// The fast twins of `Dense.forwardReference` and `Dense.backwardReference`
/// on `MatrixProduct.accumulate` (Docs/performance.md). Per output element
/// the operations are those of the scalar loops, in the same order:
/// - `y[r, o]` starts at `b[o]` (or 0) and adds `x[r, i] W[i, o]` in i order;
/// - `dx[r, i]` starts at 0 and adds `dy[r, o] W[i, o]` in o order (a product
///   with W^T);
/// - `dW[i, o]` and `db[o]` start at 0 and add over rows r in order.
/// Rows of y and dx, and kernel rows (or column panels) of dW, are split
/// across threads.
extension Dense {
    /// `forwardFast`, or `forwardReference` under `KernelMode.useReferenceKernels`.
    public static func forward(_ x: Tensor, kernel: Tensor, bias: Tensor?) -> Tensor {
        KernelMode.useReferenceKernels ? forwardReference(x, kernel: kernel, bias: bias) : forwardFast(x, kernel: kernel, bias: bias)
    }

    /// `backwardFast`, or `backwardReference` under `KernelMode.useReferenceKernels`.
    public static func backward(_ dy: Tensor, x: Tensor, kernel: Tensor, hasBias: Bool) -> Gradients {
        KernelMode.useReferenceKernels
            ? backwardReference(dy, x: x, kernel: kernel, hasBias: hasBias)
            : backwardFast(dy, x: x, kernel: kernel, hasBias: hasBias)
    }

    /// Fast twin of `forwardReference`; results equal it bit for bit.
    public static func forwardFast(_ x: Tensor, kernel: Tensor, bias: Tensor?) -> Tensor {
        forwardFast(x, kernel: kernel, bias: bias, afterRows: nil)
    }

    /// `forwardFast`, calling `afterRows(rows, y)` on each block of rows of
    /// y as soon as its product is done (while it is in cache), on the
    /// thread that computed it; blocks of different threads may run at once.
    static func forwardFast(_ x: Tensor, kernel: Tensor, bias: Tensor?,
                            afterRows: ((Range<Int>, UnsafeMutablePointer<Double>) -> Void)?) -> Tensor {
        precondition(kernel.rank == 2, "Dense kernel must be in x out, got \(kernel.shape)")
        let (inFeatures, outFeatures) = (kernel.shape[0], kernel.shape[1])
        precondition(x.rank >= 1 && x.lastAxisCount == inFeatures,
                     "Dense input \(x.shape) does not end in \(inFeatures)")
        if let bias { precondition(bias.shape == [outFeatures], "Dense bias \(bias.shape) != [\(outFeatures)]") }
        let rows = x.rowCount
        let biasOrEmpty = bias ?? Tensor.zeros([0])
        let hasBias = bias != nil
        // Every row starts at the bias (or zero), written by its chunk.
        let y = Tensor(shape: Array(x.shape.dropLast()) + [outFeatures]) { yP in
        x.withPointer { xP in kernel.withPointer { wP in biasOrEmpty.withPointer { biasP in
            let out = SharedPointer(yP)
            // W's panels copied once for every row block and thread.
            let panels = MatrixProduct.sharesPackedPanels(rows: rows, inner: inFeatures, columns: outFeatures)
                ? MatrixProduct.packedPanels(wP, inner: inFeatures, columns: outFeatures, bRowStride: outFeatures) : nil
            defer { panels?.deallocate() }
            let shared = panels.map { SharedPointer($0) }
            Parallel.forEachChunk(of: rows, minimumPerChunk: 32) { chunk in
                // Every sum starts at the bias (or zero) without a copy into y first.
                forEachRowBlock(of: chunk) { block in
                    MatrixProduct.accumulate(rows: block.count, inner: inFeatures, columns: outFeatures,
                                             a: .init(xP + block.lowerBound * inFeatures, rowStride: inFeatures),
                                             b: wP, bRowStride: outFeatures,
                                             c: out.base + block.lowerBound * outFeatures, cRowStride: outFeatures,
                                             startingFromZero: !hasBias, startingFromRow: hasBias ? biasP : nil,
                                             packedPanels: shared.map { UnsafePointer($0.base) })
                    afterRows?(block, out.base)
                }
            }
        }}}}
        return y
    }

    /// dL/dx alone (`dy W^T`): the same bits as `backward(...).input`,
    /// without the weight gradients' products (for prefix tuning).
    public static func inputGradient(_ dy: Tensor, x: Tensor, kernel: Tensor, hasBias: Bool) -> Tensor {
        KernelMode.useReferenceKernels
            ? backwardReference(dy, x: x, kernel: kernel, hasBias: hasBias).input
            : inputGradientFast(dy, inputShape: x.shape, kernel: kernel)
    }

    /// `backward`, or with `parameterGradients: false` the input gradient
    /// alone (`inputGradient`; `all` is then nil). The input gradient is the
    /// same bits either way.
    public static func backward(_ dy: Tensor, x: Tensor, kernel: Tensor, hasBias: Bool,
                                parameterGradients: Bool) -> (input: Tensor, all: Gradients?) {
        guard parameterGradients else { return (inputGradient(dy, x: x, kernel: kernel, hasBias: hasBias), nil) }
        let all = backward(dy, x: x, kernel: kernel, hasBias: hasBias)
        return (all.input, all)
    }

    /// The input gradient of `backwardFast`: each row of dx one product of
    /// dy's row with W^T, every sum from zero in output-feature order.
    /// With `afterRows`, each block of dx's rows is handed to it as soon as
    /// its product is done (as in `forwardFast(_:kernel:bias:afterRows:)`).
    static func inputGradientFast(_ dy: Tensor, inputShape: [Int], kernel: Tensor,
                                  afterRows: ((Range<Int>, UnsafeMutablePointer<Double>) -> Void)? = nil) -> Tensor {
        let (inFeatures, outFeatures) = (kernel.shape[0], kernel.shape[1])
        precondition(dy.shape == Array(inputShape.dropLast()) + [outFeatures],
                     "Dense upstream gradient \(dy.shape) does not match output of \(inputShape) x \(kernel.shape)")
        let rows = dy.rowCount
        let kernelT = kernel.transposedMatrix
        // Every row starts at zero, written by its chunk.
        return Tensor(shape: inputShape) { dxP in dy.withPointer { dyP in kernelT.withPointer { wtP in
            let out = SharedPointer(dxP)
            // W^T's panels copied once for every row block and thread.
            let panels = MatrixProduct.sharesPackedPanels(rows: rows, inner: outFeatures, columns: inFeatures)
                ? MatrixProduct.packedPanels(wtP, inner: outFeatures, columns: inFeatures, bRowStride: inFeatures) : nil
            defer { panels?.deallocate() }
            let shared = panels.map { SharedPointer($0) }
            Parallel.forEachChunk(of: rows, minimumPerChunk: 32) { chunk in
                forEachRowBlock(of: chunk) { block in
                    MatrixProduct.accumulate(rows: block.count, inner: outFeatures, columns: inFeatures,
                                             a: .init(dyP + block.lowerBound * outFeatures, rowStride: outFeatures),
                                             b: wtP, bRowStride: inFeatures,
                                             c: out.base + block.lowerBound * inFeatures, cRowStride: inFeatures,
                                             startingFromZero: true, packedPanels: shared.map { UnsafePointer($0.base) })
                    afterRows?(block, out.base)
                }
            }
        }}}
    }

    /// Fast twin of `backwardReference`; results equal it bit for bit.
    public static func backwardFast(_ dy: Tensor, x: Tensor, kernel: Tensor, hasBias: Bool) -> Gradients {
        let dx = inputGradientFast(dy, inputShape: x.shape, kernel: kernel)
        let (dKernel, dBias) = parameterGradientsFast(dy, x: x, kernel: kernel, hasBias: hasBias)
        return Gradients(input: dx, kernel: dKernel, bias: dBias)
    }

    /// The kernel and bias gradients alone: the same bits as
    /// `backward(...).kernel` and `.bias` (for a caller that computes the
    /// input gradient its own way, such as `GELU.backwardThroughDense`).
    public static func parameterGradients(_ dy: Tensor, x: Tensor, kernel: Tensor, hasBias: Bool) -> (kernel: Tensor, bias: Tensor?) {
        if KernelMode.useReferenceKernels {
            let all = backwardReference(dy, x: x, kernel: kernel, hasBias: hasBias)
            return (all.kernel, all.bias)
        }
        return parameterGradientsFast(dy, x: x, kernel: kernel, hasBias: hasBias)
    }

    static func parameterGradientsFast(_ dy: Tensor, x: Tensor, kernel: Tensor, hasBias: Bool) -> (kernel: Tensor, bias: Tensor?) {
        let (inFeatures, outFeatures) = (kernel.shape[0], kernel.shape[1])
        let rows = x.rowCount
        precondition(dy.shape == Array(x.shape.dropLast()) + [outFeatures],
                     "Dense upstream gradient \(dy.shape) does not match output of \(x.shape) x \(kernel.shape)")
        var dKernel = Tensor.zeros(like: kernel)
        var dBias = hasBias ? Tensor.zeros([outFeatures]) : nil
        dy.withPointer { dyP in x.withPointer { xP in
            dKernel.withMutablePointer { dwP in
                let out = SharedPointer(dwP)
                // Split the larger side across threads: kernel rows, or
                // panels of eight columns (then each thread streams only its
                // columns of dy, the large operand).
                if inFeatures >= outFeatures {
                    Parallel.forEachChunk(of: inFeatures) { chunk in
                        MatrixProduct.accumulate(rows: chunk.count, inner: rows, columns: outFeatures,
                                                 a: .init(xP + chunk.lowerBound, rowStride: 1, innerStride: inFeatures),
                                                 b: dyP, bRowStride: outFeatures,
                                                 c: out.base + chunk.lowerBound * outFeatures, cRowStride: outFeatures)
                    }
                } else {
                    Parallel.forEachChunk(of: (outFeatures + 7) / 8) { panels in
                        let columns = (panels.lowerBound * 8)..<min(outFeatures, panels.upperBound * 8)
                        MatrixProduct.accumulate(rows: inFeatures, inner: rows, columns: columns.count,
                                                 a: .init(xP, rowStride: 1, innerStride: inFeatures),
                                                 b: dyP + columns.lowerBound, bRowStride: outFeatures,
                                                 c: out.base + columns.lowerBound, cRowStride: outFeatures)
                    }
                }
            }
            if hasBias {
                dBias!.withMutablePointer { dbP in
                    for row in 0..<rows {
                        for o in 0..<outFeatures { dbP[o] += dyP[row * outFeatures + o] }
                    }
                }
            }
        }}
        return (dKernel, dBias)
    }

    /// Runs `body` on consecutive blocks of 64 rows of `rows` (rows are
    /// independent outputs, so the blocking changes no result): the product
    /// walks its column panels outside its row blocks, so a block's input
    /// rows stay in cache from one panel to the next.
    @inline(__always)
    static func forEachRowBlock(of rows: Range<Int>, _ body: (Range<Int>) -> Void) {
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(rows.upperBound, start + 64)
            body(start..<end)
            start = end
        }
    }
}
