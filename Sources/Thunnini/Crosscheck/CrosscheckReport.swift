import Foundation

/// The outcome of running this implementation on one cross-check bundle.
public struct CrosscheckReport: Sendable {
    /// The bundle's name.
    public var bundleName: String
    /// One entry per compared array, in the order compared.
    public var comparisons: [ArrayComparison] = []
    /// Arrays present in the bundle that were not compared (sorted).
    public var uncompared: [String] = []

    /// Whether every compared array passed (uncompared arrays aside).
    public var comparedAllPassed: Bool { comparisons.allSatisfy(\.passed) }

    /// Whether the bundle passes: every comparison passed, and with
    /// `requireAll` nothing was left uncompared.
    public func passed(requireAll: Bool) -> Bool {
        comparedAllPassed && (!requireAll || uncompared.isEmpty)
    }
}

/// Collects comparisons against a bundle's arrays and remembers which ones
/// were looked at, so that the rest can be reported as uncompared.
struct ComparisonLog {
    let bundle: CrosscheckBundle
    private(set) var comparisons: [ArrayComparison] = []
    private(set) var compared: Set<String> = []

    init(bundle: CrosscheckBundle) { self.bundle = bundle }

    /// Compares `actual` with the bundle's `name` if the bundle has it.
    mutating func compare(_ name: String, _ actual: Tensor, _ tolerance: Tolerance, allowance: Tensor? = nil) {
        guard let expected = bundle.arrays[name] else { return }
        compared.insert(name)
        comparisons.append(ArrayComparison.compare(name: name, actual: actual, expected: expected, tolerance: tolerance,
                                                   allowance: allowance))
    }

    /// Marks inputs (parameters, sequences, prefixes) as used rather than compared.
    mutating func markUsed(_ name: String) { compared.insert(name) }

    func report() -> CrosscheckReport {
        CrosscheckReport(bundleName: bundle.name, comparisons: comparisons,
                         uncompared: bundle.arrays.keys.filter { !compared.contains($0) }.sorted())
    }
}

/// Runs this implementation on cross-check bundles exported by the original
/// (format: Golden/crosscheck/thunnini-jax/README.md).
public enum Crosscheck {
    /// Loads and runs the bundle in `directory`; with `tolerance`, every
    /// array is held to it instead of the bundle's own (`.exact`: bit for bit).
    public static func run(directory: URL, tolerance: CrosscheckBundle.Tolerances? = nil) throws -> CrosscheckReport {
        var bundle = try CrosscheckBundle.load(directory: directory)
        if let tolerance { bundle.tolerance = tolerance }
        return try run(bundle: bundle)
    }

    /// Runs a loaded bundle of either kind.
    public static func run(bundle: CrosscheckBundle) throws -> CrosscheckReport {
        switch bundle.kind {
        case .predictor: try runPredictorBundle(bundle)
        case .datagen: try runDatagenBundle(bundle)
        }
    }
}
