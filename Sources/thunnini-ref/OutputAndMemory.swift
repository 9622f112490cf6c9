import ArgumentParser
import Foundation
import Thunnini

/// `--max-memory SIZE`, shared by the commands whose allocations follow their input.
struct MemoryOptions: ParsableArguments {
    @Option(name: .long, help: "Memory budget, e.g. 8G or 512M (default: 80% of the physical memory). Inputs estimated to need more are refused before computing.")
    var maxMemory: String?

    /// Applies `--max-memory` (call first in `run()`, inside `reportingErrors`).
    func apply() throws {
        if let maxMemory { try MemoryBudget.set(maxMemory) }
    }
}

/// Checks the output directory before anything is computed (an unusable
/// path is refused first, not after minutes of work) and installs the
/// SIGINT/SIGTERM cleanup of the staging directory.
func prepareOutput(_ out: String, overwrite: Bool) throws {
    guard !out.isEmpty else { throw ThunniniError("--out must not be empty") }
    try AtomicOutputDirectory.checkUsable(destination: URL(fileURLWithPath: out), overwrite: overwrite)
    InterruptCleanup.install()
}
