import ArgumentParser
import Foundation
import Thunnini

/// `thunnini-ref crosscheck BUNDLE_DIR...`: runs this implementation on
/// bundles exported by another implementation (format:
/// Golden/crosscheck/thunnini-jax/README.md) and compares every array.
struct CrosscheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crosscheck",
        abstract: "Compare this implementation with cross-check bundles (predictor or datagen).",
        discussion: """
            Prints one line per bundle, one line per failing array (max abs and rel error, worst \
            index), and the arrays it did not compare. Exits 0 only if every compared array is \
            within the bundle's tolerance (and, with --require-all, nothing was left uncompared).
            """
    )

    @Argument(help: "Bundle directories (each with bundle.json and arrays.npz).")
    var bundles: [String]

    @Flag(name: .long, help: "Treat any array left uncompared as a failure.")
    var requireAll = false

    @Flag(name: .long, help: "Also print a line for every passing array.")
    var verbose = false

    @Flag(name: .long, help: "Ignore the bundles' tolerances: every array must match bit for bit (for bundles written by `thunnini-ref export`).")
    var exact = false

    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try reportingErrors { try threadOptions.apply() }
        var allPassed = true
        for path in bundles {
            do {
                let report = try Crosscheck.run(directory: URL(fileURLWithPath: path), tolerance: exact ? .exact : nil)
                let passed = report.passed(requireAll: requireAll)
                allPassed = allPassed && passed
                let failing = report.comparisons.filter { !$0.passed }
                let widened = report.comparisons.filter { $0.passed && $0.acceptedByAllowanceOnly > 0 }.count
                let widenedNote = widened > 0 ? " (\(widened) after-step arrays needed the step allowance, see Docs/crosscheck.md; --verbose lists them)" : ""
                print("\(passed ? "PASS" : "FAIL") \(report.bundleName): \(report.comparisons.count - failing.count)/\(report.comparisons.count) arrays within tolerance, \(report.uncompared.count) not compared\(widenedNote)")
                for comparison in report.comparisons where verbose || !comparison.passed {
                    print("  \(comparison.summary)")
                }
                if !report.uncompared.isEmpty {
                    print("  not compared\(requireAll ? " (failure with --require-all)" : ""): \(report.uncompared.joined(separator: ", "))")
                }
            } catch let error as ThunniniError {
                allPassed = false
                print("FAIL \(path)")
                FileHandle.standardError.write(Data("error: \(path): \(error.message)\n".utf8))
            }
        }
        if !allPassed { throw ExitCode.failure }
    }
}
