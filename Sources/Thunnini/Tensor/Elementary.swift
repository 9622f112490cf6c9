/// exp, tanh and the logistic function of the layers, written out in IEEE
/// double operations (Docs/performance.md, "Elementary functions").
///
/// Why not the C library's: its results may differ between library versions
/// and CPUs (glibc picks an FMA variant at run time), and a scalar call per
/// element cannot be vectorised. These versions compute four lanes at once
/// with `SIMD4<Double>`; the scalar functions evaluate one lane of the same
/// code, so a scalar reference kernel and a vectorised fast kernel get the
/// same bits, on every machine. Accuracy: within 2 ulp of the exact values
/// (checked against the C library in the tests, on a dense grid and at the
/// edges of each branch).
///
/// Method. With `n = round(y / ln 2)` and `r = y - n ln 2` (ln 2 in two parts,
/// so `n * ln2High` is exact), `|r| <= ln(2)/2` and
/// `e^y - 1 = 2^n q(r) + (2^n - 1)`, where `q(r) = e^r - 1` is its Taylor
/// polynomial of degree 14 (truncation error below 1e-19 relative).
public enum Elementary {
    static let log2E = 1.4426950408889634
    static let ln2High = 6.93147180369123816490e-01
    static let ln2Low = 1.90821492927058770002e-10
    /// Largest y with a finite e^y, and the y below which e^y rounds to 0.
    static let expOverflow = 709.782712893384
    static let expUnderflow = -745.1332191019412
    /// Above this |x|, tanh(x) rounds to +-1.
    static let tanhSaturation = 22.0
    /// `e^r - 1` for `|r| <= ln(2)/2`: Horner's rule on the Taylor coefficients
    /// 1/k! (k = 14 down to 1, each the double nearest to 1/k!), times r.
    @inline(__always)
    static func expm1Polynomial(_ r: SIMD4<Double>) -> SIMD4<Double> {
        var p = SIMD4<Double>(repeating: 1.1470745597729725e-11)  // 1/14!
        p = p * r + SIMD4(repeating: 1.6059043836821613e-10)  // 1/13!
        p = p * r + SIMD4(repeating: 2.08767569878681e-09)  // 1/12!
        p = p * r + SIMD4(repeating: 2.505210838544172e-08)  // 1/11!
        p = p * r + SIMD4(repeating: 2.755731922398589e-07)  // 1/10!
        p = p * r + SIMD4(repeating: 2.7557319223985893e-06)  // 1/9!
        p = p * r + SIMD4(repeating: 2.48015873015873e-05)  // 1/8!
        p = p * r + SIMD4(repeating: 0.0001984126984126984)  // 1/7!
        p = p * r + SIMD4(repeating: 0.001388888888888889)  // 1/6!
        p = p * r + SIMD4(repeating: 0.008333333333333333)  // 1/5!
        p = p * r + SIMD4(repeating: 0.041666666666666664)  // 1/4!
        p = p * r + SIMD4(repeating: 0.16666666666666666)  // 1/3!
        p = p * r + SIMD4(repeating: 0.5)  // 1/2!
        p = p * r + SIMD4(repeating: 1.0)  // 1/1!
        return p * r
    }

    /// 1.5 * 2^52: adding it to |v| < 2^51 rounds v to an integer (ties to
    /// even, the IEEE default), which then sits in the low bits of the sum.
    static let roundingShifter = 6755399441055744.0

    /// v rounded to the nearest integer, ties to even (|v| < 2^51).
    @inline(__always)
    static func roundToInteger(_ v: SIMD4<Double>) -> SIMD4<Double> {
        (v + SIMD4(repeating: roundingShifter)) - SIMD4(repeating: roundingShifter)
    }

    /// `2^n` for integer-valued `n` in [-1022, 1023], built from its bits:
    /// the biased exponent `n + 1023` shifted into place.
    @inline(__always)
    static func powerOfTwo(_ n: SIMD4<Double>) -> SIMD4<Double> {
        let shifter = SIMD4<Double>(repeating: roundingShifter)
        let integer = unsafeBitCast(n + shifter, to: SIMD4<UInt64>.self) &- unsafeBitCast(shifter, to: SIMD4<UInt64>.self)
        return unsafeBitCast((integer &+ 1023) &<< 52, to: SIMD4<Double>.self)
    }

    /// The reduction `y = n ln 2 + r`: returns (n, r).
    @inline(__always)
    static func reduce(_ y: SIMD4<Double>) -> (n: SIMD4<Double>, r: SIMD4<Double>) {
        let n = roundToInteger(y * SIMD4(repeating: log2E))
        let r = (y - n * SIMD4(repeating: ln2High)) - n * SIMD4(repeating: ln2Low)
        return (n, r)
    }

    /// e^x in each lane: `2^n (1 + q(r))`, the power of two applied in two
    /// exact halves so that subnormal results round once, as a single
    /// multiplication would. Overflow gives +inf, underflow 0, NaN stays NaN.
    public static func exp(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let overflow = x .> SIMD4(repeating: expOverflow)
        let underflow = x .< SIMD4(repeating: expUnderflow)
        let notANumber = x .!= x
        let y = x.replacing(with: 0, where: overflow .| underflow .| notANumber)
        let (n, r) = reduce(y)
        let p = 1 + expm1Polynomial(r)
        let half = roundToInteger(n * 0.5)
        var result = (p * powerOfTwo(half)) * powerOfTwo(n - half)
        result.replace(with: .infinity, where: overflow)
        result.replace(with: 0, where: underflow)
        result.replace(with: x, where: notANumber)
        return result
    }

    /// tanh(x) in each lane: with `e = e^(2|x|) - 1`, `tanh|x| = e / (e + 2)`,
    /// then the sign of x (so tanh(-0) = -0). |x| > 22 gives +-1; NaN stays NaN.
    public static func tanh(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let bits = unsafeBitCast(x, to: SIMD4<UInt64>.self)
        let signMask = SIMD4<UInt64>(repeating: 0x8000_0000_0000_0000)
        let magnitude = unsafeBitCast(bits & ~signMask, to: SIMD4<Double>.self)
        let saturated = magnitude .> SIMD4(repeating: tanhSaturation)
        let notANumber = x .!= x
        let y = 2 * magnitude.replacing(with: 0, where: saturated .| notANumber)
        let (n, r) = reduce(y)
        let scale = powerOfTwo(n)
        let e = scale * expm1Polynomial(r) + (scale - 1)
        var result = e / (e + 2)
        result.replace(with: 1, where: saturated)
        result.replace(with: magnitude, where: notANumber)
        return unsafeBitCast(unsafeBitCast(result, to: SIMD4<UInt64>.self) | (bits & signMask), to: SIMD4<Double>.self)
    }

    /// The logistic function `1 / (1 + e^(-a))` in each lane.
    @inline(__always)
    public static func sigmoid(_ a: SIMD4<Double>) -> SIMD4<Double> {
        1 / (1 + exp(-a))
    }

    /// e^x: one lane of the vector version (the same bits).
    public static func exp(_ x: Double) -> Double { exp(SIMD4(repeating: x))[0] }

    /// tanh(x): one lane of the vector version (the same bits).
    public static func tanh(_ x: Double) -> Double { tanh(SIMD4(repeating: x))[0] }

    /// `1 / (1 + e^(-a))`: one lane of the vector version (the same bits).
    public static func sigmoid(_ a: Double) -> Double { sigmoid(SIMD4(repeating: a))[0] }
}
