import Testing
@testable import Thunnini

/// `QuantileBand` against numpy's default ("linear") quantile, with values
/// worked out by hand: position h = (n - 1) q, interpolated between the
/// sorted values at floor(h) and ceil(h). The golden case
/// `evaluation_quantile_band` pins a larger example.
@Suite struct QuantileBandTests {
    /// n = 4, unsorted input [4, 1, 3, 2]: h = 0.75, 1.5, 2.25, so
    /// q25 = 1 + 0.75 = 1.75, median 2.5, q75 = 3.25. Catches a
    /// nearest-rank quantile (2, 2 or 3, 3), a missing sort, and q25/q75 swapped.
    @Test func interpolatesLikeNumpyLinear() {
        let band = QuantileBand(curves: [[4, 0], [1, 0], [3, 0], [2, 0]])
        #expect(band.lower == [1.75, 0] && band.median == [2.5, 0] && band.upper == [3.25, 0])
    }

    /// n = 5: h = 1, 2, 3 fall on sorted entries; one curve is its own band.
    @Test func oddCountsAndSingleCurve() {
        let band = QuantileBand(curves: [[10], [-1], [7], [3], [5]])
        #expect(band.lower == [3] && band.median == [5] && band.upper == [7])
        let single = QuantileBand(curves: [[0.25, -2]])
        #expect(single.lower == [0.25, -2] && single.median == [0.25, -2] && single.upper == [0.25, -2])
    }

    /// Pointwise: every time step is sorted on its own.
    @Test func quantilesArePointwise() {
        let band = QuantileBand(curves: [[1, 30], [2, 10], [3, 20]])
        #expect(band.median == [2, 20] && band.lower == [1.5, 15] && band.upper == [2.5, 25])
    }
}
