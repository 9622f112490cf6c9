import Foundation

/// Everything an experiment run produces, in memory; `write(to:)` puts it
/// on disk atomically in the layout of Docs/experiment.md.
public struct ExperimentResults {
    public let spec: ExperimentSpec

    /// Pretraining curves (nil without pretraining).
    public struct Curves: Codable, Equatable, Sendable {
        public var losses: [Double]
        public var gradientNorms: [Double]
        enum CodingKeys: String, CodingKey { case losses = "loss", gradientNorms = "grad_norm_unclipped" }
    }
    public var pretraining: Curves?
    /// The pretrained (or initial) parameters every method starts from.
    public var parameters = ParameterTree()

    /// One repetition of one tuning config.
    public struct TuningRun: Sendable {
        public var losses: [Double]
        public var gradientNorms: [Double]
        public var initialPrefix: Tensor?
        public var prefix: Tensor?
        /// Tuned parameters (weight methods only).
        public var parameters: ParameterTree?
    }
    /// Tuning runs by config name, repetitions in order.
    public var tuningRuns: [String: [TuningRun]] = [:]

    /// A hard-prefix search's outcome.
    public struct HardPrefix: Codable, Equatable, Sendable {
        public var tokens: [Int]
        public var loss: Double
        public var candidateLosses: [Double]
        enum CodingKeys: String, CodingKey { case tokens, loss = "mean_cumulative_loss", candidateLosses = "candidate_losses" }
    }
    public var hardPrefixes: [String: HardPrefix] = [:]

    /// Evaluation sequences and their ground truth, by source.
    public var sequences: [String: [String: Tensor]] = [:]

    /// Instant regret curves by source, then method (one curve per repetition),
    /// with the order in which methods were added.
    public var instantRegrets: [String: [String: [[Double]]]] = [:]
    public var methodOrder: [String] = []

    init(spec: ExperimentSpec) { self.spec = spec }

    mutating func addRepetition(source: String, method: String, losses: Tensor, groundTruth: Tensor) {
        if !methodOrder.contains(method) { methodOrder.append(method) }
        instantRegrets[source, default: [:]][method, default: []].append(Regret.instant(losses: losses, groundTruthLosses: groundTruth))
    }

    /// The regret curves of one (source, method) and their quantiles over repetitions.
    public struct RegretSummary: Codable, Equatable, Sendable {
        public var source: String
        public var method: String
        public var repetitions: Int
        public var instantRegret: [[Double]]
        public var cumulativeRegret: [[Double]]
        /// Pointwise median and 25-75% quantiles of the cumulative regret.
        public var cumulativeRegretQuantiles: QuantileBand
        /// The same at the last step: [q25, median, q75].
        public var finalCumulativeRegret: [Double]

        enum CodingKeys: String, CodingKey {
            case source, method, repetitions, instantRegret = "instant_regret", cumulativeRegret = "cumulative_regret"
            case cumulativeRegretQuantiles = "cumulative_regret_quantiles", finalCumulativeRegret = "final_cumulative_regret_q25_median_q75"
        }
    }

    /// Summaries in output order: sources as in the spec, methods in run order.
    public func summaries() -> [RegretSummary] {
        spec.evalDataConfigs.flatMap { source in
            methodOrder.compactMap { method -> RegretSummary? in
                guard let curves = instantRegrets[source.name]?[method] else { return nil }
                let cumulative = curves.map(Regret.cumulative)
                let band = QuantileBand(curves: cumulative)
                return RegretSummary(source: source.name, method: method, repetitions: curves.count, instantRegret: curves,
                                     cumulativeRegret: cumulative, cumulativeRegretQuantiles: band,
                                     finalCumulativeRegret: [band.lower.last!, band.median.last!, band.upper.last!])
            }
        }
    }

    /// A markdown table: methods x sources, median [q25, q75] of the final cumulative regret.
    public func summaryMarkdown() -> String {
        let summaries = summaries()
        let sources = spec.evalDataConfigs.map(\.name)
        var lines = ["# \(spec.name): final cumulative regret", "",
                     "Median [25%, 75%] over repetitions of the cumulative regret (nats) after the last step of each evaluation source.", "",
                     "| method | " + sources.joined(separator: " | ") + " |",
                     "|---|" + String(repeating: "---|", count: sources.count)]
        for method in methodOrder {
            let cells = sources.map { source -> String in
                guard let s = summaries.first(where: { $0.source == source && $0.method == method }) else { return "" }
                let f = s.finalCumulativeRegret
                return String(format: "%.4f [%.4f, %.4f]", f[1], f[0], f[2])
            }
            lines.append("| \(method) | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes every result under `directory` (atomically: all or nothing).
    public func write(to directory: URL, overwrite: Bool = false) throws {
        let out = try AtomicOutputDirectory(destination: directory, overwrite: overwrite)
        try out.write(json: spec, to: "config.json")
        try out.write(npz: parameters.values, to: "parameters.npz")
        if let pretraining { try out.write(json: pretraining, to: "pretraining/curves.json") }
        for named in spec.tuningConfigs {
            for (index, run) in (tuningRuns[named.name] ?? []).enumerated() {
                let base = "tuning/\(named.name)/rep\(index + 1)/"
                try out.write(json: Curves(losses: run.losses, gradientNorms: run.gradientNorms), to: base + "curves.json")
                var arrays: [String: Tensor] = [:]
                if let p = run.initialPrefix { arrays["initial_prefix"] = p }
                if let p = run.prefix { arrays["prefix"] = p }
                if !arrays.isEmpty { try out.write(npz: arrays, to: base + "prefix.npz") }
                if let tuned = run.parameters { try out.write(npz: tuned.values, to: base + "parameters.npz") }
            }
        }
        if !hardPrefixes.isEmpty { try out.write(json: hardPrefixes, to: "hard_prefix.json") }
        for (source, arrays) in sequences { try out.write(npz: arrays, to: "evaluation/\(source)/sequences.npz") }
        let summaries = summaries()
        for s in summaries { try out.write(json: s, to: "evaluation/\(s.source)/\(s.method).json") }
        try out.write(json: summaries.map { ["source": $0.source, "method": $0.method] }, to: "evaluation/index.json")
        try out.write(json: SummaryTable(rows: summaries.map {
            .init(source: $0.source, method: $0.method, repetitions: $0.repetitions, finalCumulativeRegret: $0.finalCumulativeRegret)
        }), to: "summary.json")
        try out.write(text: summaryMarkdown(), to: "summary.md")
        try out.commit()
    }

    struct SummaryTable: Codable {
        struct Row: Codable {
            var source: String
            var method: String
            var repetitions: Int
            var finalCumulativeRegret: [Double]
            enum CodingKeys: String, CodingKey {
                case source, method, repetitions, finalCumulativeRegret = "final_cumulative_regret_q25_median_q75"
            }
        }
        var rows: [Row]
    }
}
