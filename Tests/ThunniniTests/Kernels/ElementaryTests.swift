import Foundation
import Testing
@testable import Thunnini

/// Elementary.exp / tanh / sigmoid: the scalar functions are exactly one lane
/// of the vector ones, every lane is independent of its neighbours, and the
/// values are within a few ulp of the C library's (which would catch a wrong
/// Taylor coefficient, a lost low part of ln 2, a wrong power-of-two bias or
/// a wrong branch at the saturation and overflow edges).
@Suite("Elementary functions")
struct ElementaryTests {
    /// Distance in units of the last place of `expected` (0 when both are equal or both NaN).
    static func ulps(_ value: Double, _ expected: Double) -> Double {
        if value == expected || (value.isNaN && expected.isNaN) { return 0 }
        if !value.isFinite || !expected.isFinite { return .infinity }
        return abs(value - expected) / max(expected.ulp, Double.leastNonzeroMagnitude)
    }

    static let grid: [Double] = stride(from: -30.0, through: 30.0, by: 0.0137).map { $0 }

    @Test("exp is within 1 ulp of the C library on [-30, 30] and at the edges")
    func expAccuracy() {
        let edges: [Double] = [0, -0.0, 1e-300, 5e-324, 0.34657359, -0.34657359, 700, 709.78, -708, -720, -745]
        let worst = (Self.grid + edges).map { Self.ulps(Elementary.exp($0), Foundation.exp($0)) }.max()!
        #expect(worst <= 1, "worst exp error \(worst) ulp")
        #expect(Elementary.exp(709.8) == .infinity)
        #expect(Elementary.exp(-745.2) == 0)
        #expect(Elementary.exp(.infinity) == .infinity)
        #expect(Elementary.exp(-.infinity) == 0)
        #expect(Elementary.exp(.nan).isNaN)
    }

    @Test("tanh is within 3 ulp of the C library, odd, and saturates to +-1 beyond 22")
    func tanhAccuracy() {
        let edges: [Double] = [1e-300, 5e-324, 1e-9, 0.1733, 0.17329, 0.3466, 21.99, 22.01]
        let points = Self.grid + edges + edges.map { -$0 }
        let worst = points.map { Self.ulps(Elementary.tanh($0), Foundation.tanh($0)) }.max()!
        #expect(worst <= 3, "worst tanh error \(worst) ulp")
        for x in points { #expect(Elementary.tanh(-x).bitPattern == (-Elementary.tanh(x)).bitPattern) }
        #expect(Elementary.tanh(-0.0).sign == .minus)
        #expect(Elementary.tanh(40) == 1 && Elementary.tanh(-40) == -1)
        #expect(Elementary.tanh(.infinity) == 1 && Elementary.tanh(-.infinity) == -1)
        #expect(Elementary.tanh(.nan).isNaN)
    }

    @Test("sigmoid is 1 / (1 + exp(-a)) and stays in [0, 1]")
    func sigmoid() {
        for a in Self.grid {
            #expect(Elementary.sigmoid(a) == 1 / (1 + Elementary.exp(-a)))
            #expect(Self.ulps(Elementary.sigmoid(a), 1 / (1 + Foundation.exp(-a))) <= 2)
        }
        #expect(Elementary.sigmoid(-800) == 0 && Elementary.sigmoid(800) == 1)
    }

    @Test("each lane of the vector functions equals the scalar function of that lane")
    func lanesAreIndependent() {
        var generator = LayerTestGenerator(seed: 4)
        for _ in 0..<500 {
            var v = Elementary.Vector()
            for quarter in 0..<4 {
                v[4 * quarter] = generator.normal() * 10
                v[4 * quarter + 1] = generator.normal()
                v[4 * quarter + 2] = .infinity * (generator.uniform() < 0.05 ? 1 : 0) + generator.normal() * 300
                v[4 * quarter + 3] = generator.normal() * 1e-3
            }
            let e = Elementary.exp(v), t = Elementary.tanh(v), s = Elementary.sigmoid(v)
            for lane in 0..<16 {
                #expect(e[lane].bitPattern == Elementary.exp(v[lane]).bitPattern)
                #expect(t[lane].bitPattern == Elementary.tanh(v[lane]).bitPattern)
                #expect(s[lane].bitPattern == Elementary.sigmoid(v[lane]).bitPattern)
            }
        }
    }

    /// The fast path skips the range masks when every lane is in range. This
    /// fails if it skipped something that changes an in-range lane, or if a
    /// vector with one special lane took the fast path (that lane would come
    /// out wrong): sixteen-lane vectors mixing ordinary values with overflow,
    /// underflow, saturation, infinities and NaN, against the checked
    /// versions lane by lane, and the buffer functions (sixteen at a time plus
    /// a ragged tail) against the scalar ones.
    @Test("fast path, checked path, buffer and scalar versions give the same bits")
    func fastPathMatchesCheckedPath() {
        var generator = LayerTestGenerator(seed: 9)
        let specials: [Double] = [710, -746, 23, -23, .infinity, -.infinity, .nan, 709.78, -745.13, 22, -22, -0.0]
        var values: [Double] = []
        for round in 0..<400 {
            var v = Elementary.Vector()
            for lane in 0..<16 { v[lane] = generator.normal() * (round.isMultiple(of: 2) ? 3 : 40) }
            if round % 4 == 1 { v[round % 16] = specials[round % specials.count] }
            let e = Elementary.exp(v), checkedE = Elementary.expChecked(v)
            let t = Elementary.tanh(v), checkedT = Elementary.tanhChecked(v)
            for lane in 0..<16 {
                #expect(Self.same(e[lane], checkedE[lane]) && Self.same(t[lane], checkedT[lane]))
                values.append(v[lane])
            }
        }
        values.removeLast(5)  // a tail that is not a multiple of sixteen
        var e = [Double](repeating: 0, count: values.count), t = e, s = e
        values.withUnsafeBufferPointer { x in
            e.withUnsafeMutableBufferPointer { Elementary.exp(x.baseAddress!, into: $0.baseAddress!, count: x.count) }
            t.withUnsafeMutableBufferPointer { Elementary.tanh(x.baseAddress!, into: $0.baseAddress!, count: x.count) }
            s.withUnsafeMutableBufferPointer { Elementary.sigmoid(x.baseAddress!, into: $0.baseAddress!, count: x.count) }
        }
        for (index, x) in values.enumerated() {
            #expect(Self.same(e[index], Elementary.exp(x)) && Self.same(t[index], Elementary.tanh(x))
                    && Self.same(s[index], Elementary.sigmoid(x)), "at \(x)")
        }
        #expect(Elementary.exp(Elementary.Vector(repeating: 710))[3] == .infinity)
        #expect(Elementary.tanh(Elementary.Vector(repeating: -30))[15] == -1)
    }

    /// exp's ordinary path scales by 2^n in one multiplication; the checked
    /// path (and so every lane beyond |x| = 700) in two exact halves. Both must
    /// give the same bits wherever the ordinary path is taken, including its
    /// edge: this fails for a wrong exponent bias in the single power of two,
    /// a limit so large that 2^n or the result leaves the normal range, or a
    /// one-multiplication path that rounds differently.
    @Test("exp's one-multiplication scaling gives the two-halves scaling's bits up to |x| = 700")
    func oneMultiplicationScaling() {
        let limit = Elementary.normalScaleLimit
        var points = Array(stride(from: -limit, through: limit, by: 0.731)) + [limit, -limit, limit.nextDown, (-limit).nextUp]
        points += Array(stride(from: -limit, to: -limit + 2, by: 0.0173)) + Array(stride(from: limit - 2, to: limit, by: 0.0173))
        for x in points {
            let vector = Elementary.Vector(repeating: x)
            #expect(Self.same(Elementary.exp(vector)[0], Elementary.expChecked(vector)[0]), "at \(x)")
            #expect(Self.same(Elementary.expWithNormalScale(vector)[0], Elementary.expInRange(vector)[0]), "at \(x)")
        }
        // Just beyond the limit, a vector takes the checked path and stays right.
        #expect(Self.ulps(Elementary.exp(limit.nextUp), Foundation.exp(limit.nextUp)) <= 1)
        #expect(Self.ulps(Elementary.exp(-708.5), Foundation.exp(-708.5)) <= 1)
    }

    static func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }
}
