/// The few whole-tensor operations the layers and their gradients need:
/// zero tensors, element-wise sums and scaling, and the row view of the last
/// axis. Shape mismatches are programming errors (shapes of user-supplied
/// parameters are validated where they are loaded), so they trap.
extension Tensor {
    /// A zero tensor with the shape of `other`.
    public static func zeros(like other: Tensor) -> Tensor {
        Tensor(shape: other.shape, repeating: 0)
    }

    /// A zero tensor of the given shape.
    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, repeating: 0)
    }

    /// Extent of the last axis (1 for a scalar).
    public var lastAxisCount: Int { shape.last ?? 1 }

    /// Number of rows when every axis but the last is flattened: the product
    /// of the leading extents (1 for a vector or scalar). Valid even when the
    /// last axis is empty.
    public var rowCount: Int { shape.dropLast().reduce(1, *) }

    /// Element-wise sum of two tensors of the same shape (one addition per
    /// element; large tensors in chunks on several threads, which changes no
    /// result).
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "shape \(lhs.shape) + shape \(rhs.shape)")
        return Tensor(shape: lhs.shape) { sumP in lhs.withPointer { lP in rhs.withPointer { rP in
            let sum = SharedPointer(sumP)
            Parallel.forEachChunk(of: lhs.count, minimumPerChunk: elementwiseChunk) { chunk in
                for index in chunk { sum.base[index] = lP[index] + rP[index] }
            }
        }}}
    }

    /// Adds `rhs` element-wise into `lhs` (same shape).
    public static func += (lhs: inout Tensor, rhs: Tensor) {
        precondition(lhs.shape == rhs.shape, "shape \(lhs.shape) += shape \(rhs.shape)")
        let count = lhs.count
        lhs.withMutablePointer { lP in rhs.withPointer { rP in
            let target = SharedPointer(lP)
            Parallel.forEachChunk(of: count, minimumPerChunk: elementwiseChunk) { chunk in
                for index in chunk { target.base[index] += rP[index] }
            }
        }}
    }

    /// Fewest elements per thread in the element-wise operations (below it,
    /// starting a thread costs more than it saves).
    static let elementwiseChunk = 32_768

    /// The transpose of a matrix (a rank-2 tensor): element (r, c) at (c, r).
    public var transposedMatrix: Tensor {
        precondition(rank == 2, "transposedMatrix of shape \(shape)")
        let (rows, columns) = (shape[0], shape[1])
        var t = Tensor.zeros([columns, rows])
        for r in 0..<rows {
            for c in 0..<columns { t.storage[c * rows + r] = storage[r * columns + c] }
        }
        return t
    }

    /// Element-wise difference of two tensors of the same shape.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        precondition(lhs.shape == rhs.shape, "shape \(lhs.shape) - shape \(rhs.shape)")
        var difference = lhs
        for index in 0..<difference.storage.count {
            difference.storage[index] -= rhs.storage[index]
        }
        return difference
    }

    /// Every element multiplied by `factor`.
    public func scaled(by factor: Double) -> Tensor {
        var result = self
        for index in 0..<result.storage.count {
            result.storage[index] *= factor
        }
        return result
    }

    /// Sum over all elements of the element-wise product (the Frobenius inner
    /// product); shapes must match.
    public func dot(_ other: Tensor) -> Double {
        precondition(shape == other.shape, "dot of shape \(shape) with shape \(other.shape)")
        var total = 0.0
        for index in 0..<storage.count {
            total += storage[index] * other.storage[index]
        }
        return total
    }

    /// Largest absolute element (0 for an empty tensor).
    public var maxAbs: Double {
        var largest = 0.0
        for value in storage { largest = Swift.max(largest, Swift.abs(value)) }
        return largest
    }
}
