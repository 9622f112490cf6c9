import Foundation

/// The predictor's parameters, keyed by their full Flax path.
///
/// Paths are exactly the original's, with the collection first and `/` as
/// separator (`params/embedding/kernel`,
/// `params/LSTMPredictorTorso_0/OptimizedLSTMCell_1/hf/bias`), so that a tree
/// exported from the original (e.g. a cross-check bundle's `params/...`
/// arrays) loads unchanged. Iteration is always in sorted path order, which
/// makes every reduction over the tree (norms, checksums, files) deterministic.
public struct ParameterTree: Equatable, Sendable {
    /// Path to value.
    public private(set) var values: [String: Tensor]

    /// An empty tree.
    public init() { values = [:] }

    /// A tree from path/value pairs.
    public init(_ values: [String: Tensor]) { self.values = values }

    /// The paths in sorted order.
    public var paths: [String] { values.keys.sorted() }

    /// Number of scalar parameters in the tree.
    public var scalarCount: Int { values.values.reduce(0) { $0 + $1.count } }

    /// The value at `path`; traps if absent (a programming error, not user input).
    public subscript(path: String) -> Tensor {
        get {
            guard let value = values[path] else { preconditionFailure("no parameter at '\(path)'") }
            return value
        }
        set { values[path] = newValue }
    }

    /// The value at `path`, or nil.
    public func value(at path: String) -> Tensor? { values[path] }

    /// Whether the tree holds `path`.
    public func contains(_ path: String) -> Bool { values[path] != nil }

    /// A tree of the same paths and shapes filled with zeros.
    public func zerosLike() -> ParameterTree {
        ParameterTree(values.mapValues { Tensor(shape: $0.shape) })
    }

    /// sqrt(sum of squares of every entry), summed in sorted path order.
    public func globalNorm() -> Double {
        var sumOfSquares = 0.0
        for path in paths {
            for x in values[path]!.storage { sumOfSquares += x * x }
        }
        return sumOfSquares.squareRoot()
    }

    /// The sub-tree of the paths for which `include` is true.
    public func filter(_ include: (String) -> Bool) -> ParameterTree {
        ParameterTree(values.filter { include($0.key) })
    }

    /// The path's components (`params/embedding/kernel` -> [params, embedding, kernel]).
    public static func components(of path: String) -> [Substring] {
        path.split(separator: "/")
    }

    /// Checks that `other` has exactly this tree's paths and shapes.
    public func checkSameStructure(as other: ParameterTree, context: String) throws {
        let mine = Set(values.keys), theirs = Set(other.values.keys)
        if let missing = mine.subtracting(theirs).sorted().first {
            throw ThunniniError("\(context): missing parameter '\(missing)'")
        }
        if let extra = theirs.subtracting(mine).sorted().first {
            throw ThunniniError("\(context): unexpected parameter '\(extra)'")
        }
        for path in paths where values[path]!.shape != other.values[path]!.shape {
            throw ThunniniError("\(context): parameter '\(path)' has shape \(other.values[path]!.shape), expected \(values[path]!.shape)")
        }
    }
}

extension ParameterTree {
    /// Reads a tree from an `.npz` whose array names are the full Flax paths
    /// (`params/...`), as the original's parameters exported with
    /// `numpy.savez`. Arrays outside `params/` are an error, so that a wrong
    /// file is not half-used.
    ///
    /// With `expected` (the tree of the predictor the parameters are for),
    /// each array's name and declared shape are checked against it before
    /// the array is inflated, so a crafted archive cannot make the reader
    /// inflate more than that predictor's parameters.
    public static func load(npz url: URL, expected: ParameterTree? = nil) throws -> ParameterTree {
        let arrays = try NPZ.read(url) { name, shape in
            guard name.hasPrefix("params/") else {
                throw ThunniniError("\(url.path): array '\(name)' is not a parameter (names must start with 'params/')")
            }
            guard let expected else { return }
            guard let want = expected.values[name]?.shape else {
                throw ThunniniError("\(url.path): unexpected parameter '\(name)'")
            }
            guard want == shape else {
                throw ThunniniError("\(url.path): parameter '\(name)' has shape \(shape), expected \(want)")
            }
        }
        if let stray = arrays.keys.sorted().first(where: { !$0.hasPrefix("params/") }) {
            throw ThunniniError("\(url.path): array '\(stray)' is not a parameter (names must start with 'params/')")
        }
        guard !arrays.isEmpty else { throw ThunniniError("\(url.path): no parameters in the archive") }
        for name in arrays.keys.sorted() {
            try ArrayChecks.finite(arrays[name]!, name: name, source: url.path)
        }
        return ParameterTree(arrays)
    }

    /// Writes the tree as `.npz` (float64, names = paths), atomically.
    public func save(npz url: URL) throws {
        try NPZ.write(values, to: url)
    }
}
