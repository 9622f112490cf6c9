/// Allocator settings for long computations.
public enum Allocator {
    /// Keeps freed blocks of up to 32 MB in the process instead of returning
    /// them to the system: each training step allocates activations of a few
    /// MB, and glibc's default (mmap above 128 KB, unmapped on free) makes the
    /// kernel zero fresh pages for every one of them, about a tenth of a
    /// step's time. Changes no result. Only on Linux (glibc).
    public static func keepFreedBlocks() {
        #if os(Linux)
        // <malloc.h>: M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3.
        _ = glibcMallopt(-3, 32 << 20)
        _ = glibcMallopt(-1, 512 << 20)
        #endif
    }
}

#if os(Linux)
/// glibc's `int mallopt(int param, int value)`, which the Glibc module does not export.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
