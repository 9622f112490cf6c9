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
