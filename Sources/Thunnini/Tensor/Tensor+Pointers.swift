/// Raw access to a tensor's storage for the fast kernels, which index with
/// plain pointer arithmetic (no per-element bounds or uniqueness checks).
extension Tensor {
    /// Calls `body` with a pointer to the first element (valid only inside
    /// `body`; a dangling-free dummy pointer for an empty tensor).
    @inlinable
    public func withPointer<R>(_ body: (UnsafePointer<Double>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { return try body(base) }
            var dummy = 0.0
            return try withUnsafePointer(to: &dummy) { try body($0) }
        }
    }

    /// Calls `body` with a mutable pointer to the first element.
    @inlinable
    public mutating func withMutablePointer<R>(_ body: (UnsafeMutablePointer<Double>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { return try body(base) }
            var dummy = 0.0
            return try withUnsafeMutablePointer(to: &dummy) { try body($0) }
        }
    }

    /// A tensor whose elements are all written by `body`, without filling
    /// them with zeros first (the fast kernels overwrite every element of
    /// their outputs; the twin tests compare every element with the scalar
    /// kernel's). `body` must write each of the `shape`'s elements.
    public init(shape: [Int], writingEveryElement body: (UnsafeMutablePointer<Double>) -> Void) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        let count = shape.reduce(1, *)
        let storage = [Double](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            if let base = buffer.baseAddress {
                body(base)
            } else {
                var dummy = 0.0
                withUnsafeMutablePointer(to: &dummy) { body($0) }
            }
            initializedCount = count
        }
        self.init(shape: shape, storage: storage)
    }

    /// One tensor per shape, each of whose elements `body` writes (see
    /// `init(shape:writingEveryElement:)`); `body` gets their pointers in order.
    public static func writingEveryElement(shapes: [[Int]],
                                           _ body: ([UnsafeMutablePointer<Double>]) -> Void) -> [Tensor] {
        var pointers: [UnsafeMutablePointer<Double>] = []
        var innermostFirst: [Tensor] = []
        func nest(_ index: Int) {
            guard index < shapes.count else { return body(pointers) }
            innermostFirst.append(Tensor(shape: shapes[index], writingEveryElement: { pointer in
                pointers.append(pointer)
                nest(index + 1)
            }))
        }
        nest(0)
        return innermostFirst.reversed()
    }
}

/// A pointer that may be shared by the chunks of `Parallel.forEachChunk`,
/// each of which writes a disjoint set of elements.
@usableFromInline
struct SharedPointer: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Double>
    @usableFromInline init(_ base: UnsafeMutablePointer<Double>) { self.base = base }
}
