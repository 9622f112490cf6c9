/// Which twin of each kernel the layers run.
///
/// Every layer with a fast kernel keeps its scalar reference kernel (the
/// readable specification, checked against Docs/ by eye). Both compute every
/// output element with the same floating-point operations in the same order,
/// so the choice never changes a result; it exists so that tests can run a
/// whole predictor on the reference kernels and compare bit for bit.
public enum KernelMode {
    /// Run the scalar reference kernels (single-threaded) instead of the fast
    /// ones, within `KernelMode.$useReferenceKernels.withValue(true) { ... }`.
    @TaskLocal public static var useReferenceKernels = false
}
