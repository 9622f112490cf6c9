/// A dense, row-major (C order) array of `Double` with an explicit shape.
///
/// This is the one storage type of the engine: layers read and write
/// `storage` with plain index arithmetic so that every kernel can be checked
/// against the math in Docs/ by eye. The last axis is contiguous.
public struct Tensor: Equatable, Sendable {
    /// Extent of each axis; `[]` is a scalar.
    public var shape: [Int]
    /// The values in row-major order; `storage.count == shape.product`.
    public var storage: [Double]

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Double = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        self.shape = shape
        self.storage = [Double](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor wrapping existing values; `storage.count` must match `shape`.
    public init(shape: [Int], storage: [Double]) {
        precondition(shape.reduce(1, *) == storage.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) values, got \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// A scalar tensor.
    public init(scalar: Double) {
        self.init(shape: [], storage: [scalar])
    }

    /// Number of elements.
    public var count: Int { storage.count }

    /// Number of axes.
    public var rank: Int { shape.count }

    /// Flat offset of a multi-index (row-major).
    @inlinable
    public func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) != tensor rank \(shape.count)")
        var flat = 0
        for axis in 0..<shape.count {
            precondition(index[axis] >= 0 && index[axis] < shape[axis], "index \(index) out of bounds for \(shape)")
            flat = flat * shape[axis] + index[axis]
        }
        return flat
    }

    /// Element access by multi-index (for tests and readable reference code).
    public subscript(_ index: Int...) -> Double {
        get { storage[offset(index)] }
        set { storage[offset(index)] = newValue }
    }

    /// The same values under a new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }

    /// The value of a scalar (or single-element) tensor.
    public var scalarValue: Double {
        precondition(storage.count == 1, "scalarValue on a tensor of shape \(shape)")
        return storage[0]
    }
}
