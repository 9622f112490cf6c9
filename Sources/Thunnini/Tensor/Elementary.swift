/// exp, tanh and the logistic function of the layers, written out in IEEE
/// double operations (Docs/performance.md, "The kernels").
///
/// Why not the C library's: its results may differ between library versions
/// and CPUs (glibc picks an FMA variant at run time), and a scalar call per
/// element cannot be vectorised. Every lane goes through the same sequence
/// of double operations, so a scalar reference kernel (one lane) and a
/// vectorised fast kernel (sixteen lanes) get the same bits, on every
/// machine. Accuracy: exp within 1 ulp and tanh within 3 ulp of the C
/// library (checked in the tests, on a dense grid and at the edges of each
/// branch).
///
/// Method. With `n = round(y / ln 2)` and `r = y - n ln 2` (ln 2 in two parts,
/// so `n * ln2High` is exact), `|r| <= ln(2)/2` and
/// `e^y - 1 = 2^n q(r) + (2^n - 1)`, where `q(r) = e^r - 1` is its Taylor
/// polynomial of degree 14 (truncation error below 1e-19 relative).
///
/// Speed. The one implementation works on `SIMD16<Double>` (four AVX2
/// registers): the Horner chain is long, and sixteen lanes give the CPU four
/// independent chains to overlap. When every lane is inside the range where
/// no special case applies (the common case), the range masks are skipped;
/// they change nothing for such lanes, so both paths give the same bits.
/// exp's ordinary path (every lane within 700 of 0) also scales by `2^n` in
/// one exact multiplication instead of two exact halves: the same bits.
/// Scalar calls fill the sixteen lanes with copies of their argument.
public enum Elementary {
    /// Sixteen lanes: the width of the one implementation.
    public typealias Vector = SIMD16<Double>
    typealias Bits = SIMD16<UInt64>

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
    static func expm1Polynomial(_ r: Vector) -> Vector {
        var p = Vector(repeating: 1.1470745597729725e-11)  // 1/14!
        p = p * r + Vector(repeating: 1.6059043836821613e-10)  // 1/13!
        p = p * r + Vector(repeating: 2.08767569878681e-09)  // 1/12!
        p = p * r + Vector(repeating: 2.505210838544172e-08)  // 1/11!
        p = p * r + Vector(repeating: 2.755731922398589e-07)  // 1/10!
        p = p * r + Vector(repeating: 2.7557319223985893e-06)  // 1/9!
        p = p * r + Vector(repeating: 2.48015873015873e-05)  // 1/8!
        p = p * r + Vector(repeating: 0.0001984126984126984)  // 1/7!
        p = p * r + Vector(repeating: 0.001388888888888889)  // 1/6!
        p = p * r + Vector(repeating: 0.008333333333333333)  // 1/5!
        p = p * r + Vector(repeating: 0.041666666666666664)  // 1/4!
        p = p * r + Vector(repeating: 0.16666666666666666)  // 1/3!
        p = p * r + Vector(repeating: 0.5)  // 1/2!
        p = p * r + Vector(repeating: 1.0)  // 1/1!
        return p * r
    }

    /// 1.5 * 2^52: adding it to |v| < 2^51 rounds v to an integer (ties to
    /// even, the IEEE default), which then sits in the low bits of the sum.
    static let roundingShifter = 6755399441055744.0

    /// v rounded to the nearest integer, ties to even (|v| < 2^51).
    @inline(__always)
    static func roundToInteger(_ v: Vector) -> Vector {
        (v + Vector(repeating: roundingShifter)) - Vector(repeating: roundingShifter)
    }

    /// `2^n` for integer-valued `n` in [-1022, 1023], built from its bits:
    /// the biased exponent `n + 1023` shifted into place.
    @inline(__always)
    static func powerOfTwo(_ n: Vector) -> Vector {
        let shifter = Vector(repeating: roundingShifter)
        let integer = unsafeBitCast(n + shifter, to: Bits.self) &- unsafeBitCast(shifter, to: Bits.self)
        return unsafeBitCast((integer &+ 1023) &<< 52, to: Vector.self)
    }

    /// The reduction `y = n ln 2 + r`: returns (n, r).
    @inline(__always)
    static func reduce(_ y: Vector) -> (n: Vector, r: Vector) {
        let n = roundToInteger(y * Vector(repeating: log2E))
        let r = (y - n * Vector(repeating: ln2High)) - n * Vector(repeating: ln2Low)
        return (n, r)
    }

    /// `2^n (1 + q(r))` for y inside [expUnderflow, expOverflow], the power of
    /// two applied in two exact halves so that subnormal results round once,
    /// as a single multiplication would.
    @inline(__always)
    static func expInRange(_ y: Vector) -> Vector {
        let (n, r) = reduce(y)
        let p = 1 + expm1Polynomial(r)
        let half = roundToInteger(n * 0.5)
        return (p * powerOfTwo(half)) * powerOfTwo(n - half)
    }

    /// e^x in each lane, with the special cases: overflow gives +inf,
    /// underflow 0, NaN stays NaN. Out-of-range lanes are evaluated at 0 and
    /// then replaced.
    static func expChecked(_ x: Vector) -> Vector {
        let overflow = x .> Vector(repeating: expOverflow)
        let underflow = x .< Vector(repeating: expUnderflow)
        let notANumber = x .!= x
        var result = expInRange(x.replacing(with: 0, where: overflow .| underflow .| notANumber))
        result.replace(with: .infinity, where: overflow)
        result.replace(with: 0, where: underflow)
        result.replace(with: x, where: notANumber)
        return result
    }

    /// Below this |y|, `2^n` and `2^n (1 + q(r))` are normal doubles
    /// (|n| <= 1010), so one multiplication by `2^n` is exact.
    static let normalScaleLimit = 700.0

    /// `2^n (1 + q(r))` for |y| <= `normalScaleLimit`, with one multiplication
    /// by `2^n`: exact there, as each of `expInRange`'s two half-power
    /// multiplications is, so both give the same bits (the same rounded
    /// `1 + q(r)`, scaled exactly).
    @inline(__always)
    static func expWithNormalScale(_ y: Vector) -> Vector {
        let (n, r) = reduce(y)
        return (1 + expm1Polynomial(r)) * powerOfTwo(n)
    }

    /// e^x in each lane (the same bits as `expChecked`: when every lane is
    /// within `normalScaleLimit` of 0, the checks would replace nothing and
    /// the scaling is exact either way).
    @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        let ordinary = magnitude(x) .<= Vector(repeating: normalScaleLimit)
        return _fastPath(allLanes(ordinary)) ? expWithNormalScale(x) : expChecked(x)
    }

    /// `tanh|x| = e / (e + 2)` with `e = e^(2|x|) - 1`, for |x| <= 22.
    @inline(__always)
    static func tanhOfMagnitude(_ magnitude: Vector) -> Vector {
        let (n, r) = reduce(2 * magnitude)
        let scale = powerOfTwo(n)
        let e = scale * expm1Polynomial(r) + (scale - 1)
        return e / (e + 2)
    }

    @inline(__always)
    static func withSign(of x: Vector, _ magnitude: Vector) -> Vector {
        let signMask = Bits(repeating: 0x8000_0000_0000_0000)
        return unsafeBitCast(unsafeBitCast(magnitude, to: Bits.self) | (unsafeBitCast(x, to: Bits.self) & signMask),
                             to: Vector.self)
    }

    @inline(__always)
    static func magnitude(_ x: Vector) -> Vector {
        unsafeBitCast(unsafeBitCast(x, to: Bits.self) & ~Bits(repeating: 0x8000_0000_0000_0000), to: Vector.self)
    }

    /// tanh(x) in each lane, with the special cases: |x| > 22 gives +-1, NaN
    /// stays NaN; the sign of x is applied last, so tanh(-0) = -0.
    static func tanhChecked(_ x: Vector) -> Vector {
        let magnitude = magnitude(x)
        let saturated = magnitude .> Vector(repeating: tanhSaturation)
        let notANumber = x .!= x
        var result = tanhOfMagnitude(magnitude.replacing(with: 0, where: saturated .| notANumber))
        result.replace(with: 1, where: saturated)
        result.replace(with: magnitude, where: notANumber)
        return withSign(of: x, result)
    }

    /// tanh(x) in each lane (the same bits as `tanhChecked`).
    @inline(__always)
    public static func tanh(_ x: Vector) -> Vector {
        let magnitude = magnitude(x)
        guard _fastPath(allLanes(magnitude .<= Vector(repeating: tanhSaturation))) else { return tanhChecked(x) }
        return withSign(of: x, tanhOfMagnitude(magnitude))
    }

    /// The logistic function `1 / (1 + e^(-a))` in each lane.
    @inline(__always)
    public static func sigmoid(_ a: Vector) -> Vector {
        1 / (1 + exp(-a))
    }

    /// Whether every lane of a mask is set (the standard library's `all`
    /// is a generic reduction that is not inlined).
    @inline(__always)
    static func allLanes(_ mask: SIMDMask<SIMD16<Int64>>) -> Bool {
        let lanes = unsafeBitCast(mask, to: SIMD16<Int64>.self)
        let eight = lanes.lowHalf & lanes.highHalf
        let four = eight.lowHalf & eight.highHalf
        let two = four.lowHalf & four.highHalf
        return (two[0] & two[1]) == -1
    }

    /// e^x: one lane of the vector version (the same bits).
    public static func exp(_ x: Double) -> Double { exp(Vector(repeating: x))[0] }

    /// tanh(x): one lane of the vector version (the same bits).
    public static func tanh(_ x: Double) -> Double { tanh(Vector(repeating: x))[0] }

    /// `1 / (1 + e^(-a))`: one lane of the vector version (the same bits).
    public static func sigmoid(_ a: Double) -> Double { sigmoid(Vector(repeating: a))[0] }
}

extension Elementary {
    /// Sixteen consecutive elements of a buffer (the width of `Vector`), or
    /// the last fewer than sixteen, which load zero-padded and store only
    /// their own lanes. Lanes are independent, so every element gets the
    /// bits of the per-element expression either way.
    struct Slot {
        /// The first element.
        let index: Int
        /// Elements in the slot: 16, or fewer for the last one.
        let lanes: Int

        /// Slots (the last one possibly partial) in `count` elements.
        static func count(_ count: Int) -> Int { (count + 15) / 16 }

        @inline(__always) func load(_ buffer: UnsafePointer<Double>) -> Vector {
            if lanes == 16 { return UnsafeRawPointer(buffer + index).loadUnaligned(as: Vector.self) }
            var padded = Vector()
            for lane in 0..<lanes { padded[lane] = buffer[index + lane] }
            return padded
        }

        @inline(__always) func store(_ value: Vector, _ buffer: UnsafeMutablePointer<Double>) {
            if lanes == 16 {
                UnsafeMutableRawPointer(buffer + index).storeBytes(of: value, as: Vector.self)
                return
            }
            for lane in 0..<lanes { buffer[index + lane] = value[lane] }
        }

        /// Runs `body` on slots `slots` of `count` elements: the whole ones
        /// in a loop of plain vector loads and stores (the compiler
        /// specialises `body` for `lanes == 16` there), then the partial one
        /// if it is among them. Element-wise kernels call it inside each
        /// parallel chunk, so `body` is inlined into the chunk's loop.
        @inline(__always)
        static func forEach(_ slots: Range<Int>, count: Int, _ body: (Slot) -> Void) {
            let whole = min(slots.upperBound, count / 16)
            var slot = slots.lowerBound
            while slot < whole {
                body(Slot(index: slot * 16, lanes: 16))
                slot += 1
            }
            if slot < slots.upperBound { body(Slot(index: slot * 16, lanes: count - slot * 16)) }
        }
    }

    /// `destination[i] = function(source[i])` for `i < count`, a `Slot` at a
    /// time. `source` and `destination` may be the same buffer.
    @inline(__always)
    static func apply(_ function: (Vector) -> Vector, _ source: UnsafePointer<Double>,
                      _ destination: UnsafeMutablePointer<Double>, count: Int) {
        Slot.forEach(0..<Slot.count(count), count: count) { slot in
            slot.store(function(slot.load(source)), destination)
        }
    }

    /// Element-wise e^x of a buffer (see `apply`).
    public static func exp(_ source: UnsafePointer<Double>, into destination: UnsafeMutablePointer<Double>, count: Int) {
        apply(exp, source, destination, count: count)
    }

    /// Element-wise tanh of a buffer (see `apply`).
    public static func tanh(_ source: UnsafePointer<Double>, into destination: UnsafeMutablePointer<Double>, count: Int) {
        apply(tanh, source, destination, count: count)
    }

    /// Element-wise logistic function of a buffer (see `apply`).
    public static func sigmoid(_ source: UnsafePointer<Double>, into destination: UnsafeMutablePointer<Double>, count: Int) {
        apply(sigmoid, source, destination, count: count)
    }
}
