import Foundation

/// A progress reporter for long phases (pretraining, tuning, hard-prefix
/// search): one line per report on stderr, e.g.
/// `[pretrain] step 200/1000 loss 63.1234 elapsed 4.1s rate 48.8 steps/s`.
///
/// Reports are throttled by `every` (the final step is always reported).
/// The reporter only reads the numbers it is given and writes text, so it
/// cannot change any numerical result. Not thread-safe: one phase, one
/// reporter, updated from the loop that runs the phase. (Not named
/// `Progress`, which would clash with Foundation's class in every client.)
public final class ProgressReporter {
    /// How often a line may be printed.
    public enum Cadence: Equatable, Sendable {
        /// After every `n`-th step (steps n, 2n, ...).
        case steps(Int)
        /// At most once per this many seconds of wall-clock time.
        case seconds(Double)
    }

    /// The phase's label, printed in brackets.
    public let phase: String
    /// The number of steps the phase will run.
    public let total: Int
    /// The throttle.
    public let cadence: Cadence

    private let write: (String) -> Void
    private let now: () -> Double
    private let start: Double
    private var lastReportTime: Double
    private var lastStep = 0
    private var lastLoss: Double?
    private var lastReportedStep = 0
    private var finished = false

    /// A reporter for `total` steps of `phase`.
    ///
    /// - Parameters:
    ///   - phase: the name in brackets at the start of each line (`pretrain`).
    ///   - total: the number of steps the phase will run.
    ///   - every: the throttle (default: at most one line per 2 seconds).
    ///   - clock: seconds from an arbitrary origin, for tests (default: monotonic time).
    ///   - output: receives each line, newline included (default: stderr).
    public init(phase: String, total: Int, every: Cadence = .seconds(2),
                clock: @escaping () -> Double = ProgressReporter.monotonicSeconds,
                output: @escaping (String) -> Void = ProgressReporter.writeToStandardError) {
        self.phase = phase
        self.total = total
        self.cadence = every
        self.now = clock
        self.write = output
        self.start = clock()
        self.lastReportTime = start
    }

    /// Records that `step` steps (1-based count) are done, the last with
    /// `loss` (nil for phases without one), and prints a line if due.
    public func update(step: Int, loss: Double? = nil) {
        lastStep = step
        lastLoss = loss
        let time = now()
        let due: Bool
        switch cadence {
        case .steps(let n): due = n > 0 && step % n == 0
        case .seconds(let s): due = time - lastReportTime >= s
        }
        if due || step == total {
            report(step: step, loss: loss, time: time)
        }
    }

    /// Prints the phase's last line (unless the last step was just
    /// reported) and a summary: `[pretrain] done 1000 steps in 20.5s (48.8 steps/s)`.
    /// Later calls do nothing.
    public func finish() {
        guard !finished else { return }
        finished = true
        let time = now()
        if lastStep != lastReportedStep {
            report(step: lastStep, loss: lastLoss, time: time)
        }
        let elapsed = time - start
        write("[\(phase)] done \(lastStep) steps in \(Self.seconds(elapsed)) (\(Self.rate(lastStep, elapsed)))\n")
    }

    private func report(step: Int, loss: Double?, time: Double) {
        let elapsed = time - start
        var line = "[\(phase)] step \(step)/\(total)"
        if let loss { line += " loss " + String(format: "%.4f", loss) }
        line += " elapsed \(Self.seconds(elapsed)) rate \(Self.rate(step, elapsed))\n"
        write(line)
        lastReportTime = time
        lastReportedStep = step
    }

    private static func seconds(_ value: Double) -> String {
        String(format: "%.1fs", value)
    }

    private static func rate(_ steps: Int, _ elapsed: Double) -> String {
        elapsed > 0 ? String(format: "%.1f steps/s", Double(steps) / elapsed) : "- steps/s"
    }

    /// Monotonic wall-clock seconds (unaffected by clock changes).
    public static func monotonicSeconds() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    }

    /// Writes `line` to the standard error stream, unbuffered.
    public static func writeToStandardError(_ line: String) {
        FileHandle.standardError.write(Data(line.utf8))
    }
}
