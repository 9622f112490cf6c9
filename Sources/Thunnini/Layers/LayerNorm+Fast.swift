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
                // Four rows at a time, one per SIMD lane (each row's sums still
                // run over j in order, in its own lane), then the rest one by one.
                var row = chunk.lowerBound
                while row + 4 <= chunk.upperBound {
                    normalize(Rows4(first: row, features: features), xP, scaleP, biasP, hasBias, epsilon, features,
                              y: yShared.base, mean: meanShared.base, rstd: rstdShared.base)
                    row += 4
                }
                while row < chunk.upperBound {
                    normalize(Rows1(first: row, features: features), xP, scaleP, biasP, hasBias, epsilon, features,
                              y: yShared.base, mean: meanShared.base, rstd: rstdShared.base)
                    row += 1
                }
            }
        }}}}
        let (y, mean, rstd) = (outputs[0], outputs[1], outputs[2])
        return (y, Cache(mean: mean, rstd: rstd))
    }

    /// One row's forward arithmetic (`forwardReference`'s, in its order) for
    /// every lane of `R`: a lane is a row.
    @inline(__always)
    static func normalize<R: RowLanes>(_ rows: R, _ x: UnsafePointer<Double>, _ scale: UnsafePointer<Double>,
                                       _ bias: UnsafePointer<Double>, _ hasBias: Bool, _ epsilon: Double, _ features: Int,
                                       y: UnsafeMutablePointer<Double>, mean: UnsafeMutablePointer<Double>,
                                       rstd: UnsafeMutablePointer<Double>) {
        var sum = R.Vector(), sumOfSquares = R.Vector()
        for j in 0..<features {
            let v = rows.load(x, j)
            sum += v
            sumOfSquares += v * v
        }
        let rowMean = sum / Double(features)
        let centred = sumOfSquares / Double(features) - rowMean * rowMean
        // Swift.max(0, v) is `v >= 0 ? v : 0` (NaN gives 0), lane by lane.
        let variance = centred.replacing(with: 0, where: .!(centred .>= 0))
        let rowRstd = 1 / (variance + epsilon).squareRoot()
        rows.storeRow(rowMean, mean)
        rows.storeRow(rowRstd, rstd)
        for j in 0..<features {
            var value = (rows.load(x, j) - rowMean) * rowRstd * scale[j]
            if hasBias { value += bias[j] }
            rows.store(value, y, j)
        }
    }

    /// One row's input gradient and dscale terms (`backwardReference`'s
    /// arithmetic, in its order) for every lane of `R`: a lane is a row.
    @inline(__always)
    static func normalizeBackward<R: RowLanes>(_ rows: R, _ dy: UnsafePointer<Double>, _ x: UnsafePointer<Double>,
                                               _ scale: UnsafePointer<Double>, _ mean: UnsafePointer<Double>,
                                               _ rstd: UnsafePointer<Double>, _ features: Int,
                                               dx: UnsafeMutablePointer<Double>, terms: UnsafeMutablePointer<Double>) {
        let rowMean = rows.loadRow(mean), rowRstd = rows.loadRow(rstd)
        var meanG = R.Vector(), meanGXhat = R.Vector()
        for j in 0..<features {
            let xhat = (rows.load(x, j) - rowMean) * rowRstd
            let dyj = rows.load(dy, j)
            rows.store(dyj * xhat, terms, j)
            let g = dyj * scale[j]
            meanG += g
            meanGXhat += g * xhat
        }
        meanG /= Double(features)
        meanGXhat /= Double(features)
        for j in 0..<features {
            let xhat = (rows.load(x, j) - rowMean) * rowRstd
            let g = rows.load(dy, j) * scale[j]
            rows.store(rowRstd * (g - meanG - xhat * meanGXhat), dx, j)
        }
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
                // Four rows at a time, one per lane, then the rest one by one.
                var row = chunk.lowerBound
                while row + 4 <= chunk.upperBound {
                    normalizeBackward(Rows4(first: row, features: features), dyP, xP, scaleP, meanP, rstdP, features,
                                      dx: dxShared.base, terms: termsShared.base)
                    row += 4
                }
                while row < chunk.upperBound {
                    normalizeBackward(Rows1(first: row, features: features), dyP, xP, scaleP, meanP, rstdP, features,
                                      dx: dxShared.base, terms: termsShared.base)
                    row += 1
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

/// Consecutive rows of a `[rows, features]` matrix as the lanes of a SIMD
/// vector, for kernels whose rows are independent: lane l is row `first + l`.
protocol RowLanes {
    associatedtype Vector: SIMD where Vector.Scalar == Double
    var first: Int { get }
    var features: Int { get }
    /// Column j of the rows.
    func load(_ base: UnsafePointer<Double>, _ j: Int) -> Vector
    /// Writes column j of the rows.
    func store(_ value: Vector, _ base: UnsafeMutablePointer<Double>, _ j: Int)
    /// Writes one value per row into a per-row array.
    func storeRow(_ value: Vector, _ base: UnsafeMutablePointer<Double>)
    /// Reads one value per row from a per-row array.
    func loadRow(_ base: UnsafePointer<Double>) -> Vector
}

struct Rows4: RowLanes {
    let first: Int
    let features: Int
    @inline(__always) func load(_ base: UnsafePointer<Double>, _ j: Int) -> SIMD4<Double> {
        let p = base + first * features + j
        return SIMD4(p[0], p[features], p[2 * features], p[3 * features])
    }
    @inline(__always) func store(_ value: SIMD4<Double>, _ base: UnsafeMutablePointer<Double>, _ j: Int) {
        let p = base + first * features + j
        p[0] = value[0]; p[features] = value[1]; p[2 * features] = value[2]; p[3 * features] = value[3]
    }
    @inline(__always) func storeRow(_ value: SIMD4<Double>, _ base: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(base + first).storeBytes(of: value, as: SIMD4<Double>.self)
    }
    @inline(__always) func loadRow(_ base: UnsafePointer<Double>) -> SIMD4<Double> {
        UnsafeRawPointer(base + first).loadUnaligned(as: SIMD4<Double>.self)
    }
}

/// One row, as lane 0 of a two-lane vector (the second lane a copy).
struct Rows1: RowLanes {
    let first: Int
    let features: Int
    @inline(__always) func load(_ base: UnsafePointer<Double>, _ j: Int) -> SIMD2<Double> {
        SIMD2(repeating: base[first * features + j])
    }
    @inline(__always) func store(_ value: SIMD2<Double>, _ base: UnsafeMutablePointer<Double>, _ j: Int) {
        base[first * features + j] = value[0]
    }
    @inline(__always) func storeRow(_ value: SIMD2<Double>, _ base: UnsafeMutablePointer<Double>) {
        base[first] = value[0]
    }
    @inline(__always) func loadRow(_ base: UnsafePointer<Double>) -> SIMD2<Double> {
        SIMD2(repeating: base[first])
    }
}
