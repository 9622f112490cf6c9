import Foundation

/// Everything an experiment run produces, in memory; `write(to:)` puts it
/// on disk atomically in the layout of Docs/experiment.md.
public struct ExperimentResults {
    public let spec: ExperimentSpec

    /// The version of the results folder's layout, written to `format.json`
    /// (Docs/experiment.md, "Format versions"). Version 1 (no `format.json`)
    /// lacked the example log-probabilities, the regret at N_tune / N_train /
    /// N_eval and the dynamics data; version 2 lacked the per-sequence
    /// regrets (`evaluation/<source>/per_sequence_regret.npz`).
    public static let formatVersion = 3
    /// The `format` string of `format.json`.
    public static let formatName = "thunnini-ref experiment results"
    /// How many evaluation sequences (the first ones of each source) keep
    /// their per-step log-probabilities for every method and repetition.
    public static let exampleSequenceCount = 8

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
    /// Log-probabilities (S x T x V, S = `exampleSequenceCount` or fewer) of
    /// the first evaluation sequences, by source, then method, one per repetition.
    public var exampleLogProbs: [String: [String: [Tensor]]] = [:]
    /// Each evaluation sequence's cumulative regret after the n predictions of
    /// every mark (`marks(evalLength:)`), by source, then method, one M x B
    /// tensor per repetition: what standard errors over sequences are computed from.
    public var perSequenceRegrets: [String: [String: [Tensor]]] = [:]

    /// The "Internal dynamics" data: a whitened two-component PCA of the
    /// pretrained network's internal states and projected trajectories.
    public struct Dynamics: Sendable {
        /// Sequences and their length of the pretraining source the PCA is fitted on.
        public static let fitSequences = 100, fitLength = 50
        /// Evaluation sequences (the first ones) whose trajectories are kept.
        public static let trajectoryCount = 8
        public var pca: PCA
        /// fitSequences x fitLength x 2 whitened projections of the fitted states.
        public var fitProjection: Tensor
        /// fitSequences x fitLength x V ground-truth log-probabilities of those sequences.
        public var fitGroundTruthLogProbs: Tensor
        /// One network on one source's first sequences: S x (K + T) x 2, the first K positions the prefix part.
        public struct Trajectory: Sendable {
            public var source: String
            public var method: String
            public var prefixLength: Int
            public var projection: Tensor
        }
        public var trajectories: [Trajectory] = []
    }
    public var dynamics: Dynamics?

    init(spec: ExperimentSpec) { self.spec = spec }

    mutating func addRepetition(source: String, method: String, losses: Tensor, groundTruth: Tensor, logProbs: Tensor) {
        if !methodOrder.contains(method) { methodOrder.append(method) }
        instantRegrets[source, default: [:]][method, default: []].append(Regret.instant(losses: losses, groundTruthLosses: groundTruth))
        exampleLogProbs[source, default: [:]][method, default: []]
            .append(Evaluation.rows(logProbs, 0, min(Self.exampleSequenceCount, logProbs.shape[0])))
        perSequenceRegrets[source, default: [:]][method, default: []]
            .append(perSequenceRegret(losses: losses, groundTruth: groundTruth))
    }

    /// M x B: sequence b's cumulative regret (its summed loss minus the oracle's,
    /// summed over t in time order) after the n predictions of mark m.
    func perSequenceRegret(losses: Tensor, groundTruth: Tensor) -> Tensor {
        let (batch, length) = (losses.shape[0], losses.shape[1])
        let marks = marks(evalLength: length)
        var out = [Double](repeating: 0, count: marks.count * batch)
        var running = [Double](repeating: 0, count: length)
        for b in 0..<batch {
            var sum = 0.0
            for t in 0..<length {
                sum += losses.storage[b * length + t] - groundTruth.storage[b * length + t]
                running[t] = sum
            }
            for (m, mark) in marks.enumerated() { out[m * batch + b] = running[mark.n - 1] }
        }
        return Tensor(shape: [marks.count, batch], storage: out)
    }

    /// The cumulative regret after n predictions, one of the notebook's bar-plot positions.
    public struct RegretMark: Codable, Equatable, Sendable {
        /// `N_tune`, `N_train` or `N_eval`.
        public var label: String
        /// The number of predictions n (the sequence length of that source).
        public var n: Int
        /// [q25, median, q75] over repetitions of the cumulative regret after n predictions.
        public var cumulativeRegret: [Double]
        enum CodingKeys: String, CodingKey { case label, n, cumulativeRegret = "cumulative_regret_q25_median_q75" }
    }

    /// The marks of an evaluation source of length `evalLength`: N_tune (the
    /// tuning source's length), N_train (the pretraining source's, when
    /// pretrained) and N_eval, each only when it is at most `evalLength`.
    public func marks(evalLength: Int) -> [(label: String, n: Int)] {
        var marks = [("N_tune", spec.tuningDataConfig.sequenceLength)]
        if let pretraining = spec.pretraining { marks.append(("N_train", pretraining.dataConfig.sequenceLength)) }
        marks.append(("N_eval", evalLength))
        return marks.filter { $0.1 >= 1 && $0.1 <= evalLength }.map { (label: $0.0, n: $0.1) }
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
        /// The same after N_tune, N_train and N_eval predictions.
        public var cumulativeRegretAtMarks: [RegretMark]

        enum CodingKeys: String, CodingKey {
            case source, method, repetitions, instantRegret = "instant_regret", cumulativeRegret = "cumulative_regret"
            case cumulativeRegretQuantiles = "cumulative_regret_quantiles", finalCumulativeRegret = "final_cumulative_regret_q25_median_q75"
            case cumulativeRegretAtMarks = "cumulative_regret_at"
        }
    }

    /// Summaries in output order: sources as in the spec, methods in run order.
    public func summaries() -> [RegretSummary] {
        spec.evalDataConfigs.flatMap { source in
            methodOrder.compactMap { method -> RegretSummary? in
                guard let curves = instantRegrets[source.name]?[method] else { return nil }
                let cumulative = curves.map(Regret.cumulative)
                let band = QuantileBand(curves: cumulative)
                let atMarks = marks(evalLength: band.median.count).map { mark in
                    RegretMark(label: mark.label, n: mark.n,
                               cumulativeRegret: [band.lower[mark.n - 1], band.median[mark.n - 1], band.upper[mark.n - 1]])
                }
                return RegretSummary(source: source.name, method: method, repetitions: curves.count, instantRegret: curves,
                                     cumulativeRegret: cumulative, cumulativeRegretQuantiles: band,
                                     finalCumulativeRegret: [band.lower.last!, band.median.last!, band.upper.last!],
                                     cumulativeRegretAtMarks: atMarks)
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
        try write(into: out)
        try out.commit()
    }

    /// Writes every result into an open output directory (without committing it).
    public func write(into out: AtomicOutputDirectory, under base: String = "") throws {
        func path(_ relative: String) -> String { base + relative }
        try out.write(json: FormatStamp(format: Self.formatName, version: Self.formatVersion), to: path("format.json"))
        try out.write(json: spec, to: path("config.json"))
        try out.write(npz: parameters.values, to: path("parameters.npz"))
        if let pretraining { try out.write(json: pretraining, to: path("pretraining/curves.json")) }
        for named in spec.tuningConfigs {
            for (index, run) in (tuningRuns[named.name] ?? []).enumerated() {
                let base = path("tuning/\(named.name)/rep\(index + 1)/")
                try out.write(json: Curves(losses: run.losses, gradientNorms: run.gradientNorms), to: base + "curves.json")
                var arrays: [String: Tensor] = [:]
                if let p = run.initialPrefix { arrays["initial_prefix"] = p }
                if let p = run.prefix { arrays["prefix"] = p }
                if !arrays.isEmpty { try out.write(npz: arrays, to: base + "prefix.npz") }
                if let tuned = run.parameters { try out.write(npz: tuned.values, to: base + "parameters.npz") }
            }
        }
        if !hardPrefixes.isEmpty { try out.write(json: hardPrefixes, to: path("hard_prefix.json")) }
        for (source, arrays) in sequences { try out.write(npz: arrays, to: path("evaluation/\(source)/sequences.npz")) }
        for (source, byMethod) in exampleLogProbs {
            try out.write(npz: byMethod.mapValues(Self.stack), to: path("evaluation/\(source)/examples.npz"))
        }
        for (source, byMethod) in perSequenceRegrets {
            try out.write(npz: byMethod.mapValues(Self.stack), to: path("evaluation/\(source)/per_sequence_regret.npz"))
        }
        let summaries = summaries()
        for s in summaries { try out.write(json: s, to: path("evaluation/\(s.source)/\(s.method).json")) }
        try out.write(json: summaries.map { ["source": $0.source, "method": $0.method] }, to: path("evaluation/index.json"))
        try out.write(json: SummaryTable(rows: summaries.map {
            .init(source: $0.source, method: $0.method, repetitions: $0.repetitions, finalCumulativeRegret: $0.finalCumulativeRegret,
                  cumulativeRegretAtMarks: $0.cumulativeRegretAtMarks)
        }), to: path("summary.json"))
        try out.write(text: summaryMarkdown(), to: path("summary.md"))
        if let dynamics {
            var arrays: [String: Tensor] = [
                "pca/mean": Tensor(shape: [dynamics.pca.mean.count], storage: dynamics.pca.mean),
                "pca/components": Tensor(shape: [dynamics.pca.components.count, dynamics.pca.mean.count],
                                         storage: dynamics.pca.components.flatMap { $0 }),
                "pca/variances": Tensor(shape: [dynamics.pca.variances.count], storage: dynamics.pca.variances),
                "fit/projection": dynamics.fitProjection,
                "fit/ground_truth_log_probs": dynamics.fitGroundTruthLogProbs,
            ]
            var index: [[String: String]] = []
            for (i, t) in dynamics.trajectories.enumerated() {
                arrays["trajectory\(i)"] = t.projection
                index.append(["source": t.source, "method": t.method, "array": "trajectory\(i)", "prefix_length": String(t.prefixLength)])
            }
            try out.write(npz: arrays, to: path("dynamics/dynamics.npz"))
            try out.write(json: index, to: path("dynamics/index.json"))
        }
    }

    /// R tensors of one shape stacked into R x shape.
    static func stack(_ tensors: [Tensor]) -> Tensor {
        Tensor(shape: [tensors.count] + tensors[0].shape, storage: tensors.flatMap(\.storage))
    }

    /// `format.json`: which layout a results folder has.
    public struct FormatStamp: Codable, Equatable, Sendable {
        public var format: String
        public var version: Int
    }

    struct SummaryTable: Codable {
        struct Row: Codable {
            var source: String
            var method: String
            var repetitions: Int
            var finalCumulativeRegret: [Double]
            var cumulativeRegretAtMarks: [RegretMark]
            enum CodingKeys: String, CodingKey {
                case source, method, repetitions, finalCumulativeRegret = "final_cumulative_regret_q25_median_q75"
                case cumulativeRegretAtMarks = "cumulative_regret_at"
            }
        }
        var rows: [Row]
    }
}
