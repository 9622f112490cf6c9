/// Allocator settings for long computations.
public enum Allocator {
    /// Keeps freed blocks in the process instead of returning them to the
    /// system: each training step allocates activations of a few MB (the
    /// demo) to a hundred MB (the notebook's transformer: its 256 x 101 x 512
    /// MLP activations), and glibc's default (mmap above 128 KB, unmapped on
    /// free, the heap's top trimmed) makes the kernel zero fresh pages for
    /// every one of them, a tenth of a step's time or more. Every block
    /// comes from the heap (no mmap, which glibc cannot raise above 32 MB)
    /// and the heap is not trimmed, so a process's memory stays at its peak,
    /// which the memory estimate bounds. Changes no result. Only on Linux
    /// (glibc).
    public static func keepFreedBlocks() {
        #if os(Linux)
        // <malloc.h>: M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3, M_MMAP_MAX = -4.
        _ = glibcMallopt(-3, 32 << 20)
        _ = glibcMallopt(-4, 0)
        _ = glibcMallopt(-1, Int32.max)
        #endif
    }
}

#if os(Linux)
/// glibc's `int mallopt(int param, int value)`, which the Glibc module does not export.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
