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
}

/// A pointer that may be shared by the chunks of `Parallel.forEachChunk`,
/// each of which writes a disjoint set of elements.
@usableFromInline
struct SharedPointer: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Double>
    @usableFromInline init(_ base: UnsafeMutablePointer<Double>) { self.base = base }
}
