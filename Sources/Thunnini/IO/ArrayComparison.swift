/// An absolute-plus-relative tolerance: `actual` is accepted against
/// `expected` when `|actual - expected| <= atol + rtol * |expected|`
/// (the numpy `allclose` rule, asymmetric in the reference value).
public struct Tolerance: Codable, Equatable, Sendable {
    public var atol: Double
    public var rtol: Double

    public init(atol: Double, rtol: Double) {
        self.atol = atol
        self.rtol = rtol
    }

    /// Whether `actual` is close enough to the reference value `expected`.
    /// Non-finite values match only themselves (NaN matches NaN, inf the same inf).
    public func accepts(actual: Double, expected: Double) -> Bool {
        if !actual.isFinite || !expected.isFinite {
            return actual == expected || (actual.isNaN && expected.isNaN)
        }
        return abs(actual - expected) <= atol + rtol * abs(expected)
    }
}

/// The verdict of comparing one array element by element against a reference.
public struct ArrayComparison: Equatable, Sendable {
    /// The array's name (as in the bundle or golden file).
    public var name: String
    /// Largest `|actual - expected|` (infinite when a non-finite value mismatches).
    public var maxAbsError: Double
    /// Largest `|actual - expected| / |expected|` (infinite where `expected` is 0 and they differ).
    public var maxRelError: Double
    /// Multi-index of the element furthest outside the tolerance (relative to
    /// `atol + rtol * |expected|`); `[]` for a scalar or when shapes differ.
    public var worstIndex: [Int]
    /// Whether every element is accepted by the tolerance and the shapes agree.
    public var passed: Bool
    /// Why the comparison failed before looking at values (e.g. a shape mismatch), else nil.
    public var note: String?
    /// Elements outside `tolerance` that were accepted only thanks to the
    /// per-element `allowance` (0 when none was given or needed).
    public var acceptedByAllowanceOnly: Int = 0

    /// Compares `actual` against the reference `expected` under `tolerance`,
    /// each element's bound optionally widened by `allowance` (same shape):
    /// `|a - b| <= atol + rtol |b| + allowance`. Crosscheck uses it for the
    /// propagated float32 uncertainty of optimizer steps (Docs/crosscheck.md).
    public static func compare(name: String, actual: Tensor, expected: Tensor, tolerance: Tolerance,
                               allowance: Tensor? = nil) -> ArrayComparison {
        guard actual.shape == expected.shape else {
            return ArrayComparison(name: name, maxAbsError: .infinity, maxRelError: .infinity, worstIndex: [],
                                   passed: false, note: "shape mismatch: actual \(actual.shape), expected \(expected.shape)")
        }
        var maxAbsError = 0.0
        var maxRelError = 0.0
        var worstExcess = -Double.infinity
        var worstFlat = 0
        var passed = true
        var byAllowance = 0
        if let allowance { precondition(allowance.shape == expected.shape, "allowance shape \(allowance.shape) != \(expected.shape)") }
        for flat in 0..<expected.count {
            let a = actual.storage[flat]
            let b = expected.storage[flat]
            var accepted = tolerance.accepts(actual: a, expected: b)
            if !accepted, let allowance, a.isFinite, b.isFinite,
               abs(a - b) <= tolerance.atol + tolerance.rtol * abs(b) + allowance.storage[flat] {
                accepted = true
                byAllowance += 1
            }
            passed = passed && accepted
            // A non-finite mismatch has an infinite error; matching non-finite values none.
            let absError = accepted && (!a.isFinite || !b.isFinite) ? 0 : (a.isNaN || b.isNaN ? .infinity : abs(a - b))
            let relError = absError == 0 ? 0 : absError / abs(b)
            maxAbsError = max(maxAbsError, absError)
            maxRelError = max(maxRelError, relError)
            // How far past the allowed error this element is (ratio; > 1 means rejected).
            let allowed = tolerance.atol + tolerance.rtol * (b.isFinite ? abs(b) : 0) + (allowance?.storage[flat] ?? 0)
            let excess = absError == 0 ? 0 : (allowed > 0 ? absError / allowed : .infinity)
            if excess > worstExcess {
                worstExcess = excess
                worstFlat = flat
            }
        }
        return ArrayComparison(name: name, maxAbsError: maxAbsError, maxRelError: maxRelError,
                               worstIndex: multiIndex(worstFlat, shape: expected.shape), passed: passed, note: nil,
                               acceptedByAllowanceOnly: byAllowance)
    }

    /// The row-major multi-index of a flat offset.
    static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
        var index = [Int](repeating: 0, count: shape.count)
        var rest = flat
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }

    /// One line for a report, e.g. `FAIL logits: max abs 3e-04, max rel 1e-02 at [0, 2, 1]`.
    public var summary: String {
        let verdict = passed ? "ok  " : "FAIL"
        if let note { return "\(verdict) \(name): \(note)" }
        let allowanceNote = acceptedByAllowanceOnly > 0
            ? " (\(acceptedByAllowanceOnly) element(s) accepted only by the step allowance propagated from the gradient tolerance)" : ""
        return "\(verdict) \(name): max abs \(maxAbsError), max rel \(maxRelError) at \(worstIndex)\(allowanceNote)"
    }
}
