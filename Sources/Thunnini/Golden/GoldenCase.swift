/// One fixed-seed computation whose output is pinned in a text file under
/// `Golden/` (see `GoldenFile`), so that any change to the numbers shows up
/// as a failing test and a readable diff.
public struct GoldenCase {
    /// File-name-safe identifier (letters, digits, `_`, `-`, `.`); the file is `<name>.golden.txt`.
    public var name: String
    /// Computes the named arrays, in the order they are written. Must be deterministic.
    public var produce: () throws -> [(String, Tensor)]

    public init(name: String, produce: @escaping () throws -> [(String, Tensor)]) {
        self.name = name
        self.produce = produce
    }
}

/// Every golden case of the library: one list per area, concatenated.
///
/// To pin a new computation, add a `GoldenCase` to your area's list (or add
/// an area function here), then run `thunnini-ref golden --update` and commit
/// the new file under `Golden/`.
public enum GoldenRegistry {
    /// All registered cases, in file order.
    public static var cases: [GoldenCase] {
        ioCases() + dataCases() + predictorCases() + pathCases() + trainingCases()
    }
}
