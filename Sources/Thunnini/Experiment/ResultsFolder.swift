import Foundation

/// A results folder written by `thunnini-ref run` (`ExperimentResults.write`),
/// read back for rendering: everything the report draws, nothing recomputed.
///
/// Reading checks `format.json` first (a folder of another layout version is
/// refused with one line saying which version it is), then reads every file
/// the spec implies; a missing or malformed file is one error line naming it.
public struct ResultsFolder {
    public let url: URL
    public let spec: ExperimentSpec
    public let pretraining: ExperimentResults.Curves?
    /// Tuning curves by config name, repetitions in order.
    public let tuningCurves: [String: [ExperimentResults.Curves]]
    public let hardPrefixes: [String: ExperimentResults.HardPrefix]
    /// Every (source, method) summary, in `evaluation/index.json` order.
    public let summaries: [ExperimentResults.RegretSummary]
    /// Per source: sequences (B x T x V) and ground_truth_log_probs.
    public let sequences: [String: [String: Tensor]]
    /// Per source, then method: R x S x T x V log-probabilities of the first S sequences.
    public let exampleLogProbs: [String: [String: Tensor]]
    /// Per source, then method: R x M x B cumulative regret of each evaluation
    /// sequence after the n predictions of each mark (the summary's `cumulative_regret_at` order).
    public let perSequenceRegrets: [String: [String: Tensor]]
    public let dynamics: ExperimentResults.Dynamics?

    /// Reads the folder at `url` (see the type's doc for the errors).
    public static func load(from url: URL) throws -> ResultsFolder {
        let reader = Reader(root: url)
        let stamp: ExperimentResults.FormatStamp
        do {
            stamp = try reader.json(ExperimentResults.FormatStamp.self, "format.json")
        } catch let error as ThunniniError where !reader.exists("format.json") {
            _ = error
            throw ThunniniError("\(url.path): no format.json: not a results folder of thunnini-ref format version "
                + "\(ExperimentResults.formatVersion) (folders written before version 2 have none); rerun `thunnini-ref run`")
        }
        guard stamp.format == ExperimentResults.formatName, stamp.version == ExperimentResults.formatVersion else {
            throw ThunniniError("\(url.path): results format '\(stamp.format)' version \(stamp.version); this thunnini-ref reads "
                + "'\(ExperimentResults.formatName)' version \(ExperimentResults.formatVersion); rerun `thunnini-ref run`")
        }
        try reader.require("config.json")
        let spec = try ExperimentSpec.load(from: url.appendingPathComponent("config.json"))
        let pretraining = spec.pretraining == nil ? nil : try reader.json(ExperimentResults.Curves.self, "pretraining/curves.json")
        var tuning: [String: [ExperimentResults.Curves]] = [:]
        for named in spec.tuningConfigs {
            tuning[named.name] = try (1...named.config.numTuningRepetitions).map {
                try reader.json(ExperimentResults.Curves.self, "tuning/\(named.name)/rep\($0)/curves.json")
            }
        }
        let needsHard = (spec.hardPrefix?.enabled ?? false) || spec.baselines.contains(.preBayesPT)
        let hard = needsHard ? try reader.json([String: ExperimentResults.HardPrefix].self, "hard_prefix.json") : [:]
        let index = try reader.json([[String: String]].self, "evaluation/index.json")
        var summaries: [ExperimentResults.RegretSummary] = []
        for entry in index {
            guard let source = entry["source"], let method = entry["method"] else {
                throw ThunniniError("\(url.path)/evaluation/index.json: an entry lacks 'source' or 'method'")
            }
            summaries.append(try reader.json(ExperimentResults.RegretSummary.self, "evaluation/\(source)/\(method).json"))
        }
        var sequences: [String: [String: Tensor]] = [:]
        var examples: [String: [String: Tensor]] = [:]
        var perSequence: [String: [String: Tensor]] = [:]
        for source in spec.evalDataConfigs.map(\.name) {
            sequences[source] = try reader.npz("evaluation/\(source)/sequences.npz")
            examples[source] = try reader.npz("evaluation/\(source)/examples.npz")
            perSequence[source] = try reader.npz("evaluation/\(source)/per_sequence_regret.npz")
        }
        var dynamics: ExperimentResults.Dynamics? = nil
        // Optional: a folder converted from the original's results (Docs/tools/original_to_results.py) has none.
        if spec.pretraining != nil && !InternalStates.stateNames(of: spec.torsoConfig).isEmpty && reader.exists("dynamics/dynamics.npz") {
            let arrays = try reader.npz("dynamics/dynamics.npz")
            func array(_ name: String) throws -> Tensor {
                guard let a = arrays[name] else { throw ThunniniError("\(url.path)/dynamics/dynamics.npz: no array '\(name)'") }
                return a
            }
            let components = try array("pca/components")
            let width = components.shape.last ?? 0
            let pca = PCA(mean: try array("pca/mean").storage,
                          components: (0..<(components.shape.first ?? 0)).map { Array(components.storage[($0 * width)..<(($0 + 1) * width)]) },
                          variances: try array("pca/variances").storage)
            var d = ExperimentResults.Dynamics(pca: pca, fitProjection: try array("fit/projection"),
                                               fitGroundTruthLogProbs: try array("fit/ground_truth_log_probs"))
            for entry in try reader.json([[String: String]].self, "dynamics/index.json") {
                guard let source = entry["source"], let method = entry["method"], let name = entry["array"],
                      let k = entry["prefix_length"].flatMap(Int.init) else {
                    throw ThunniniError("\(url.path)/dynamics/index.json: an entry lacks source, method, array or prefix_length")
                }
                d.trajectories.append(.init(source: source, method: method, prefixLength: k, projection: try array(name)))
            }
            dynamics = d
        }
        return ResultsFolder(url: url, spec: spec, pretraining: pretraining, tuningCurves: tuning, hardPrefixes: hard,
                             summaries: summaries, sequences: sequences, exampleLogProbs: examples,
                             perSequenceRegrets: perSequence, dynamics: dynamics)
    }

    /// Reads files under the folder, with one-line errors naming them.
    struct Reader {
        let root: URL
        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path) }
        func require(_ path: String) throws {
            guard exists(path) else { throw ThunniniError("\(root.path): missing file '\(path)' (an incomplete results folder)") }
        }
        func json<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
            try require(path)
            let data: Data
            do { data = try Data(contentsOf: root.appendingPathComponent(path)) } catch {
                throw ThunniniError("\(root.path)/\(path): cannot read the file")
            }
            return try JSONOutput.decode(type, from: data, source: "\(root.path)/\(path)")
        }
        func npz(_ path: String) throws -> [String: Tensor] {
            try require(path)
            return try NPZ.read(root.appendingPathComponent(path))
        }
    }
}
