extension Tensor {
    /// A tensor of independent uniform [0, 1) draws, filled in row-major
    /// order from `RandomStream(key: key)` (element k is the stream's k-th
    /// `uniform()`).
    public static func uniform(shape: [Int], key: RandomKey) -> Tensor {
        var stream = RandomStream(key: key)
        return filled(shape: shape) { stream.uniform() }
    }

    /// A tensor of independent standard normal draws, filled in row-major
    /// order from `RandomStream(key: key)`.
    public static func normal(shape: [Int], key: RandomKey) -> Tensor {
        var stream = RandomStream(key: key)
        return filled(shape: shape) { stream.normal() }
    }

    /// A tensor of independent standard normal draws truncated to
    /// [lower, upper], filled in row-major order from `RandomStream(key:)`.
    /// Scale the result for a non-standard scale (as variance-scaling
    /// initialisers do).
    /// - Precondition: `lower < upper` (see `RandomStream.truncatedNormal`).
    public static func truncatedNormal(shape: [Int], lower: Double, upper: Double,
                                       key: RandomKey) -> Tensor {
        var stream = RandomStream(key: key)
        return filled(shape: shape) { stream.truncatedNormal(lower: lower, upper: upper) }
    }

    /// A tensor whose elements are `draw()` called in row-major order.
    private static func filled(shape: [Int], _ draw: () -> Double) -> Tensor {
        var tensor = Tensor(shape: shape)
        for flatIndex in 0..<tensor.count {
            tensor.storage[flatIndex] = draw()
        }
        return tensor
    }
}
