/// The fast twins of LayerNorm (Docs/performance.md): rows are independent,
/// so they are split across threads; the parameter gradients, which sum over
/// rows, first keep each row's terms and then add them up in row order, as
/// the scalar kernel does.
extension LayerNorm {
    /// `forwardFast`, or `forwardReference` under `KernelMode.useReferenceKernels`.
    public static func forward(_ x: Tensor, scale: Tensor, bias: Tensor?,
                               epsilon: Double = defaultEpsilon) -> (output: Tensor, cache: Cache) {
        KernelMode.useReferenceKernels
            ? forwardReference(x, scale: scale, bias: bias, epsilon: epsilon)
            : forwardFast(x, scale: scale, bias: bias, epsilon: epsilon)
    }

    /// `backwardFast`, or `backwardReference` under `KernelMode.useReferenceKernels`.
    public static func backward(_ dy: Tensor, x: Tensor, scale: Tensor, cache: Cache, hasBias: Bool) -> Gradients {
        KernelMode.useReferenceKernels
            ? backwardReference(dy, x: x, scale: scale, cache: cache, hasBias: hasBias)
            : backwardFast(dy, x: x, scale: scale, cache: cache, hasBias: hasBias)
    }

    /// Fast twin of `forwardReference`; results equal it bit for bit.
    public static func forwardFast(_ x: Tensor, scale: Tensor, bias: Tensor?,
                                   epsilon: Double = defaultEpsilon) -> (output: Tensor, cache: Cache) {
        let features = x.lastAxisCount
        precondition(x.rank >= 1 && scale.shape == [features], "LayerNorm scale \(scale.shape) for input \(x.shape)")
        if let bias { precondition(bias.shape == [features], "LayerNorm bias \(bias.shape) for input \(x.shape)") }
        let rows = x.rowCount
        let rowShape = Array(x.shape.dropLast())
        let biasOrEmpty = bias ?? Tensor.zeros([0])
        let hasBias = bias != nil
        // Every row of y, and every row's mean and 1/std, is written by its chunk.
        let outputs = Tensor.writingEveryElement(shapes: [x.shape, rowShape, rowShape]) { pointers in
        x.withPointer { xP in scale.withPointer { scaleP in biasOrEmpty.withPointer { biasP in
            let (yShared, meanShared, rstdShared) = (SharedPointer(pointers[0]), SharedPointer(pointers[1]), SharedPointer(pointers[2]))
            Parallel.forEachChunk(of: rows, minimumPerChunk: 64) { chunk in
                for row in chunk {
                    let start = row * features
                    var sum = 0.0
                    var sumOfSquares = 0.0
                    for j in 0..<features {
                        let v = xP[start + j]
                        sum += v
                        sumOfSquares += v * v
                    }
                    let rowMean = sum / Double(features)
                    let variance = Swift.max(0, sumOfSquares / Double(features) - rowMean * rowMean)
                    let rowRstd = 1 / (variance + epsilon).squareRoot()
                    meanShared.base[row] = rowMean
                    rstdShared.base[row] = rowRstd
                    for j in 0..<features {
                        var value = (xP[start + j] - rowMean) * rowRstd * scaleP[j]
                        if hasBias { value += biasP[j] }
                        yShared.base[start + j] = value
                    }
                }
            }
        }}}}
        let (y, mean, rstd) = (outputs[0], outputs[1], outputs[2])
        return (y, Cache(mean: mean, rstd: rstd))
    }

    /// Fast twin of `backwardReference`; results equal it bit for bit.
    public static func backwardFast(_ dy: Tensor, x: Tensor, scale: Tensor, cache: Cache, hasBias: Bool) -> Gradients {
        precondition(dy.shape == x.shape, "LayerNorm upstream gradient \(dy.shape) != input \(x.shape)")
        let features = x.lastAxisCount
        let rows = x.rowCount
        // Every row of dx, and of each row's dscale terms dy * xhat (kept for
        // the in-order sum), is written by its chunk.
        let outputs = Tensor.writingEveryElement(shapes: [x.shape, [rows, features]]) { pointers in
        dy.withPointer { dyP in x.withPointer { xP in scale.withPointer { scaleP in
        cache.mean.withPointer { meanP in cache.rstd.withPointer { rstdP in
            let (dxShared, termsShared) = (SharedPointer(pointers[0]), SharedPointer(pointers[1]))
            Parallel.forEachChunk(of: rows, minimumPerChunk: 64) { chunk in
                for row in chunk {
                    let start = row * features
                    let rowMean = meanP[row]
                    let rowRstd = rstdP[row]
                    var meanG = 0.0
                    var meanGXhat = 0.0
                    for j in 0..<features {
                        let xhat = (xP[start + j] - rowMean) * rowRstd
                        let dyj = dyP[start + j]
                        termsShared.base[start + j] = dyj * xhat
                        let g = dyj * scaleP[j]
                        meanG += g
                        meanGXhat += g * xhat
                    }
                    meanG /= Double(features)
                    meanGXhat /= Double(features)
                    for j in 0..<features {
                        let xhat = (xP[start + j] - rowMean) * rowRstd
                        let g = dyP[start + j] * scaleP[j]
                        dxShared.base[start + j] = rowRstd * (g - meanG - xhat * meanGXhat)
                    }
                }
            }
        }}}}}}
        let (dx, scaleTerms) = (outputs[0], outputs[1])
        var dScale = Tensor.zeros([features])
        var dBias = hasBias ? Tensor.zeros([features]) : nil
        scaleTerms.withPointer { termsP in dy.withPointer { dyP in
            dScale.withMutablePointer { dsP in
                for row in 0..<rows {
                    for j in 0..<features { dsP[j] += termsP[row * features + j] }
                }
            }
            if hasBias {
                dBias!.withMutablePointer { dbP in
                    for row in 0..<rows {
                        for j in 0..<features { dbP[j] += dyP[row * features + j] }
                    }
                }
            }
        }}
        return Gradients(input: dx, scale: dScale, bias: dBias)
    }
}
