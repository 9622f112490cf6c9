import Foundation

/// Timing of the matrix products a training step is made of, one shape at a
/// time (`thunnini-ref bench --products`), to compare the product kernel's
/// speed with the machine's peak (Docs/performance.md).
extension Benchmark {
    /// One product of a Dense layer: its forward pass `y = x W`, its input
    /// gradient `dy W^T` or its kernel gradient `x^T dy`, over `rows` rows.
    public struct Product: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            case forward
            case inputGradient = "input_gradient"
            case kernelGradient = "kernel_gradient"
        }

        public var kind: Kind
        /// The kernel's input and output features.
        public var inFeatures: Int
        public var outFeatures: Int
        /// Rows of x (positions of the batch).
        public var rows: Int

        /// The product as the kernel computes it, `C [rows, columns] =
        /// A [rows, inner] B [inner, columns]`: a kernel gradient `x^T dy` is
        /// `[in, rows] x [rows, out]`.
        public var shape: (rows: Int, inner: Int, columns: Int) {
            switch kind {
            case .forward: (rows, inFeatures, outFeatures)
            case .inputGradient: (rows, outFeatures, inFeatures)
            case .kernelGradient: (inFeatures, rows, outFeatures)
            }
        }

        /// Two per multiply-add.
        public var flops: Double { 2 * Double(rows) * Double(inFeatures) * Double(outFeatures) }
    }

    /// One timed product.
    public struct ProductRun: Sendable {
        public var product: Product
        public var threads: Int
        public var calls: Int
        public var seconds: Double

        public var secondsPerCall: Double { seconds / Double(calls) }
        public var gflopPerSecond: Double { product.flops * Double(calls) / seconds / 1e9 }
    }

    /// The distinct Dense products of one pretraining step of `setting` (or
    /// of its weight-tuning step when it has no pretraining), largest
    /// kernels first: for a transformer the attention projections `[E, E]`
    /// and the MLP's `[E, H w]` and `[H w, E]` over every position of the
    /// batch; for a linear torso its layers; for an LSTM its fused gate
    /// kernel `[in + H, 4 H]` over the batch (one time step).
    public static func products(_ setting: Setting) -> [Product] {
        guard let update = setting.pretraining ?? setting.weightTuning else { return [] }
        let positions = update.data.batchSize * (1 + update.data.sequenceLength)
        var kernels: [(inFeatures: Int, outFeatures: Int, rows: Int)] = []
        var width = setting.predictor.embeddingDimensionality
        switch setting.torso {
        case .transformer(let c):
            kernels.append((width, width, positions))
            for hidden in c.hiddenSizes {
                kernels.append((width, hidden * c.wideningFactor, positions))
                kernels.append((hidden * c.wideningFactor, width, positions))
            }
        case .linear(let c):
            for hidden in c.hiddenSizes {
                kernels.append((width, hidden, positions))
                width = hidden
            }
        case .lstm(let c):
            for hidden in c.hiddenSizes {
                kernels.append((width + hidden, 4 * hidden, update.data.batchSize))
                width = hidden
            }
        }
        var seen: [Product] = []
        for kernel in kernels {
            for kind in Product.Kind.allCases {
                let product = Product(kind: kind, inFeatures: kernel.inFeatures, outFeatures: kernel.outFeatures, rows: kernel.rows)
                if !seen.contains(product) { seen.append(product) }
            }
        }
        return seen
    }

    /// Times `product` through the Dense layer's fast kernels (the code a
    /// training step runs, threads included): one untimed call, then
    /// `calls` timed ones, on inputs in [-0.5, 0.5) from a multiplicative
    /// hash of the index (cheap to make; the values do not change the speed).
    public static func time(_ product: Product, calls: Int) throws -> ProductRun {
        guard calls >= 1 else { throw ThunniniError("bench: product calls must be at least 1, got \(calls)") }
        func values(_ shape: [Int], _ salt: Int) -> Tensor {
            Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { i in
                Double((i &+ salt) &* 2_654_435_761 & 0xFFFF) / 65536 - 0.5
            })
        }
        let x = values([product.rows, product.inFeatures], 1)
        let kernel = values([product.inFeatures, product.outFeatures], 2)
        let dy = values([product.rows, product.outFeatures], 3)
        func call() {
            switch product.kind {
            case .forward: _ = Dense.forwardFast(x, kernel: kernel, bias: nil)
            case .inputGradient: _ = Dense.inputGradientFast(dy, inputShape: x.shape, kernel: kernel)
            case .kernelGradient: _ = Dense.parameterGradientsFast(dy, x: x, kernel: kernel, hasBias: false)
            }
        }
        call()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<calls { call() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return ProductRun(product: product, threads: Parallel.threadCount, calls: calls, seconds: seconds)
    }
}

extension Benchmark {
    /// The machine's float64 peak as this build's code reaches it, in
    /// GFLOP/s over all `Parallel.threadCount` threads: each thread runs
    /// twelve independent chains of four-wide vector operations for about
    /// `seconds`, six of multiplies and six of adds (the two kinds run on
    /// separate pipes, each chain long enough to hide its latency), the
    /// most a product kernel of separate multiplies and adds could reach.
    /// Measured rather than computed from a nominal clock, because the
    /// cores of a shared host run above their base frequency when they can.
    public static func measuredPeak(seconds: Double = 0.5) -> Double {
        let threads = Parallel.threadCount
        // About 1.2e9 iterations per second at 3.6 GHz (12 operations on 4 pipes).
        let iterations = max(1, Int(seconds * 1.2e9))
        // A short section first, so that every worker thread is running
        // (and spinning for work) when the timed one starts.
        Parallel.forEachChunk(of: threads) { chunk in _ = peakChains(iterations: 1000 * chunk.count, seed: 0) }
        let start = DispatchTime.now().uptimeNanoseconds
        var sink = [Double](repeating: 0, count: threads)
        sink.withUnsafeMutableBufferPointer { out in
            let shared = SharedPointer(out.baseAddress!)
            Parallel.forEachChunk(of: threads) { chunk in
                for thread in chunk { shared.base[thread] = peakChains(iterations: iterations, seed: Double(thread)) }
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        // The chains' results are kept (in `sink`) so that no loop is removed.
        precondition(sink.allSatisfy { $0.isFinite }, "peak chains overflowed")
        return Double(threads) * Double(iterations) * 12 * 4 / elapsed / 1e9
    }

    /// Twelve chains of `SIMD4<Double>`: `m_i = m_i * f`, `a_i = a_i + g`.
    @inline(never)
    static func peakChains(iterations: Int, seed: Double) -> Double {
        let f = SIMD4<Double>(repeating: 1 + 1e-12 * (seed + 1)), g = SIMD4<Double>(repeating: 1e-9)
        var (m0, m1, m2, m3, m4, m5) = (f, f + 1, f + 2, f + 3, f + 4, f + 5)
        var (a0, a1, a2, a3, a4, a5) = (g, g + 1, g + 2, g + 3, g + 4, g + 5)
        for _ in 0..<iterations {
            m0 *= f; a0 += g; m1 *= f; a1 += g; m2 *= f; a2 += g
            m3 *= f; a3 += g; m4 *= f; a4 += g; m5 *= f; a5 += g
        }
        return ((m0 + m1 + m2 + m3 + m4 + m5) + (a0 + a1 + a2 + a3 + a4 + a5)).sum()
    }
}
