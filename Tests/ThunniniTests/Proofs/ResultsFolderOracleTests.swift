import Foundation
@testable import Thunnini
import Testing

/// The numbers of a results folder recomputed from the folder's own inputs
/// (sequences, ground truth, stored log-probabilities, the hard prefix) with
/// code written here: the brute-force oracle for every Bayes predictor, the
/// losses from the log-probabilities, the mean over the batch, running sums,
/// numpy's linear quantiles and the table's format. The files are read as
/// plain JSON and NPZ, not through the production decoders, and files this
/// test does not know are ignored.
@Suite struct ResultsFolderOracleTests {
    static let mixture = DataGeneratorConfig.mixtureOfCategoricals(.init(
        batchSize: 300, sequenceLength: 6, vocabSize: 2, mixingWeights: [0.5, 0.5], biases: [[0.2, 0.8], [0.8, 0.2]]))
    static let coins = DataGeneratorConfig.dirichletCategorical(.init(batchSize: 8, sequenceLength: 8, vocabSize: 2, alphas: [1, 1]))

    /// A small LSTM experiment (pretrained on Random Coins of length 7): the tuning source (a two-coin mixture) is
    /// evaluated on 300 sequences (TargetBayes, checked against the exact
    /// regret) and Random Coins on 8, few enough that `examples.npz` holds
    /// every sequence's log-probabilities, so every method's curve there can
    /// be recomputed. Batch (300 or 8) and length (6 or 8) differ, so an axis
    /// swap cannot go unseen.
    static func spec() -> ExperimentSpec {
        var spec = smallSpec()
        spec.torsoConfig = .lstm(LSTMTorsoConfig(hiddenSizes: [4]))
        spec.tuningConfigs = spec.tuningConfigs.filter { $0.name != "LoRAWT" }.map { named in
            var named = named
            named.config.numTuningRepetitions = named.name == "RealPT" ? 3 : 2
            return named
        }
        spec.evalDataConfigs = [NamedDataConfig(name: "Mixture", config: mixture), NamedDataConfig(name: "Coins", config: coins)]
        // N_train = 7 differs from N_tune = 6, so the two marks cannot be confused.
        spec.pretraining!.dataConfig = .dirichletCategorical(.init(batchSize: 4, sequenceLength: 7, vocabSize: 2, alphas: [1, 1]))
        return spec
    }

    /// Parsed JSON of a file of the folder.
    static func json(_ folder: URL, _ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(path)))
    }

    static func doubles(_ value: Any?) -> [Double] { (value as! [Any]).map { ($0 as! NSNumber).doubleValue } }

    /// numpy's default (linear) quantile: h = (n - 1) q between the sorted
    /// values at floor(h) and floor(h) + 1.
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        let h = Double(sorted.count - 1) * q
        let low = Int(h)
        return low + 1 < sorted.count ? sorted[low] + (h - Double(low)) * (sorted[low + 1] - sorted[low]) : sorted[low]
    }

    /// Tokens (B x T) of one-hot sequences.
    static func tokens(_ sequences: Tensor) -> [[Int]] {
        let (batch, length, vocab) = (sequences.shape[0], sequences.shape[1], sequences.shape[2])
        return (0..<batch).map { b in
            (0..<length).map { t in (0..<vocab).first { sequences.storage[(b * length + t) * vocab + $0] == 1 }! }
        }
    }

    /// Per-sequence instant losses of the oracle's Bayes predictor after `prefix`.
    static func bayesLosses(_ oracle: BruteForceOracle, _ tokens: [[Int]], prefix: [Int] = []) -> [[Double]] {
        tokens.map { row in (0..<row.count).map { t in -log(oracle.predictive(prefix + Array(row[0..<t]))[row[t]]) } }
    }

    /// Mean over the batch (first index) of `losses - groundTruth`, per step.
    static func regret(_ losses: [[Double]], _ groundTruth: [[Double]]) -> [Double] {
        (0..<losses[0].count).map { t in
            var sum = 0.0
            for b in 0..<losses.count { sum += losses[b][t] - groundTruth[b][t] }
            return sum / Double(losses.count)
        }
    }

    static func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-12) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    /// Every regret curve, summary, `summary.json` row and `summary.md` cell
    /// of a run recomputed from its files. Fails for the regret averaged
    /// over the length instead of the batch, batch and time swapped, a
    /// cumulative sum that starts late or drops a step, a wrong quantile
    /// position, a mark at n instead of n - 1, a Bayes predictor of the
    /// wrong source, PreBayesPT without its prefix, a method's curve filed
    /// under another method or source, and the table's median and
    /// quartiles swapped. TargetBayes's mean cumulative regret (300
    /// sequences) must also lie within 4 standard errors of `ExactRegret`.
    @Test func everyNumberOfTheFolderIsRecomputedFromItsInputs() throws {
        let scratch = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let spec = Self.spec()
        let folder = scratch.appendingPathComponent("results")
        try ExperimentRunner(spec: spec, reportsProgress: false).run().write(to: folder)

        let pretrainingOracle = BruteForceOracle(spec.pretraining!.dataConfig)
        let hard = try Self.json(folder, "hard_prefix.json") as! [String: Any]
        let preBayesPrefix = ((hard["PreBayesPT"] as! [String: Any])["tokens"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let index = try Self.json(folder, "evaluation/index.json") as! [[String: String]]
        let table = (try Self.json(folder, "summary.json") as! [String: Any])["rows"] as! [[String: Any]]
        let markdown = try String(contentsOf: folder.appendingPathComponent("summary.md"), encoding: .utf8)
        var checked = 0

        for named in spec.evalDataConfigs {
            let source = named.name
            let arrays = try NPZ.read(folder.appendingPathComponent("evaluation/\(source)/sequences.npz"))
            let sequences = arrays["sequences"]!, groundTruthLogProbs = arrays["ground_truth_log_probs"]!
            let tokens = Self.tokens(sequences)
            let (batch, length) = (tokens.count, tokens[0].count)
            #expect(batch == named.config.batchSize && length == named.config.sequenceLength)
            let groundTruth = tokens.enumerated().map { b, row in
                row.enumerated().map { t, token in -groundTruthLogProbs.storage[(b * length + t) * 2 + token] }
            }
            let examples = try NPZ.read(folder.appendingPathComponent("evaluation/\(source)/examples.npz"))
            let isTarget = source == "Mixture"
            let methods = index.filter { $0["source"] == source }.map { $0["method"]! }
            #expect(Set(methods) == Set([isTarget ? "TargetBayes" : "EvalBayes", "GroundTruth", "PreBayes", "PreBayesPT", "NoTuning",
                                         "RandomPF", "HardPT", "RealPT", "SoftPT", "FullWT"]), "\(source)")

            for method in methods {
                // The expected instant regret curves, one per repetition.
                var expected: [[Double]]? = nil
                switch method {
                case "GroundTruth": expected = [Self.regret(groundTruth, groundTruth)]
                case "TargetBayes", "EvalBayes":
                    let losses = Self.bayesLosses(BruteForceOracle(named.config), tokens)
                    expected = [Self.regret(losses, groundTruth)]
                    if isTarget {
                        // Mean cumulative regret within 4 SE of the exact value.
                        let perSequence = (0..<batch).map { b in (0..<length).reduce(0.0) { $0 + losses[b][$1] - groundTruth[b][$1] } }
                        let mean = perSequence.reduce(0, +) / Double(batch)
                        let variance = perSequence.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(batch - 1)
                        let generator = try makeDataGenerator(named.config)
                        let exact = try ExactRegret.compute(source: generator, predictor: generator, length: length).cumulativeRegret
                        #expect(abs(mean - exact[length - 1]) <= 4 * (variance / Double(batch)).squareRoot(),
                                "TargetBayes \(mean) vs exact \(exact[length - 1])")
                    }
                case "PreBayes": expected = [Self.regret(Self.bayesLosses(pretrainingOracle, tokens), groundTruth)]
                case "PreBayesPT":
                    expected = [Self.regret(Self.bayesLosses(pretrainingOracle, tokens, prefix: preBayesPrefix), groundTruth)]
                default:
                    // A network: its stored log-probabilities (R x S x T x V) cover every sequence on Coins.
                    let logProbs = examples[method]!
                    let repetitions = logProbs.shape[0]
                    #expect(logProbs.shape[1] == min(batch, ExperimentResults.exampleSequenceCount))
                    if logProbs.shape[1] == batch {
                        expected = (0..<repetitions).map { r in
                            let losses = tokens.enumerated().map { b, row in
                                row.enumerated().map { t, token in -logProbs.storage[((r * batch + b) * length + t) * 2 + token] }
                            }
                            return Self.regret(losses, groundTruth)
                        }
                    }
                }

                let summary = try Self.json(folder, "evaluation/\(source)/\(method).json") as! [String: Any]
                let instant = (summary["instant_regret"] as! [Any]).map(Self.doubles)
                if let expected {
                    #expect(instant.count == expected.count, "\(source) \(method)")
                    for (stored, curve) in zip(instant, expected) { #expect(Self.close(stored, curve), "\(source) \(method)") }
                    checked += 1
                }
                // From here on, everything derives from the stored instant curves (just proved where recomputable).
                let cumulative = instant.map { curve in curve.indices.map { t in curve[0...t].reduce(0, +) } }
                #expect((summary["repetitions"] as! NSNumber).intValue == instant.count)
                let storedCumulative = (summary["cumulative_regret"] as! [Any]).map(Self.doubles)
                #expect(zip(storedCumulative, cumulative).allSatisfy { Self.close($0, $1) } && storedCumulative.count == cumulative.count)
                let band = summary["cumulative_regret_quantiles"] as! [String: Any]
                for (key, q) in [("lower", 0.25), ("median", 0.5), ("upper", 0.75)] {
                    let pointwise = (0..<length).map { t in Self.quantile(cumulative.map { $0[t] }, q) }
                    #expect(Self.close(Self.doubles(band[key]), pointwise), "\(source) \(method) \(key)")
                }
                let last = cumulative.map { $0[length - 1] }
                let final = [Self.quantile(last, 0.25), Self.quantile(last, 0.5), Self.quantile(last, 0.75)]
                #expect(Self.close(Self.doubles(summary["final_cumulative_regret_q25_median_q75"]), final))
                // Marks: N_tune = 6, N_train = 7, N_eval = the source's length, each only up to that length.
                var marks: [(String, Int)] = [("N_tune", 6), ("N_train", 7), ("N_eval", length)]
                marks = marks.filter { $0.1 <= length }
                func expectMarks(_ stored: Any?) {
                    let entries = stored as! [[String: Any]]
                    #expect(entries.map { $0["label"] as! String } == marks.map(\.0))
                    for (entry, mark) in zip(entries, marks) {
                        let at = cumulative.map { $0[mark.1 - 1] }
                        #expect((entry["n"] as! NSNumber).intValue == mark.1)
                        #expect(Self.close(Self.doubles(entry["cumulative_regret_q25_median_q75"]),
                                           [Self.quantile(at, 0.25), Self.quantile(at, 0.5), Self.quantile(at, 0.75)]))
                    }
                }
                expectMarks(summary["cumulative_regret_at"])

                // summary.json's row and summary.md's cell of this (source, method).
                let rows = table.filter { $0["source"] as? String == source && $0["method"] as? String == method }
                #expect(rows.count == 1)
                if let row = rows.first {
                    #expect(Self.close(Self.doubles(row["final_cumulative_regret_q25_median_q75"]), final))
                    #expect((row["repetitions"] as! NSNumber).intValue == instant.count)
                    expectMarks(row["cumulative_regret_at"])
                }
                let cell = String(format: "%.4f [%.4f, %.4f]", final[1], final[0], final[2])
                let line = markdown.split(separator: "\n").first { $0.hasPrefix("| \(method) |") }
                let cells = line.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
                let column = spec.evalDataConfigs.firstIndex { $0.name == source }! + 1
                #expect(cells.count > column && cells[column] == cell, "summary.md \(method) on \(source)")
            }
        }
        // Bayes and ground truth on both sources, every network on Coins.
        #expect(checked == 4 * 2 + 6)
    }

    /// `Regret.instant` on a 3 x 2 batch by hand: the mean over the three
    /// sequences at each of the two steps (not over the steps, nor divided
    /// by the length), and `cumulative` its running sum from the first step.
    @Test func instantRegretIsTheMeanOverTheBatch() {
        let losses = Tensor(shape: [3, 2], storage: [1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
        let groundTruth = Tensor(shape: [3, 2], storage: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
        let instant = Regret.instant(losses: losses, groundTruthLosses: groundTruth)
        #expect(instant == [(1.0 + 4 + 16) / 3 - 0.5, (2.0 + 8 + 32) / 3 - 0.5])
        #expect(Regret.cumulative(instant) == [instant[0], instant[0] + instant[1]])
    }

    /// Running `Golden/report`'s experiment today reproduces the frozen
    /// results folder the report's golden figures are drawn from: every file
    /// of the frozen folder, whatever the layout, byte for byte. Fails when
    /// a change moves any result the frozen folder records (then the folder,
    /// and the report's goldens drawn from it, must be regenerated
    /// deliberately).
    @Test func goldenReportExperimentReproducesItsFrozenFolder() throws {
        let golden = repositoryRoot().appendingPathComponent("Golden/report")
        let frozen = golden.appendingPathComponent("results")
        let scratch = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let spec = try ExperimentSpec.load(from: golden.appendingPathComponent("tiny.json"))
        let rerun = scratch.appendingPathComponent("results")
        try ExperimentRunner(spec: spec, reportsProgress: false).run().write(to: rerun)
        let expected = try ExperimentRunnerTests.contents(of: frozen)
        let actual = try ExperimentRunnerTests.contents(of: rerun)
        #expect(expected.count >= 20)
        for (path, bytes) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(actual[path] == bytes, "\(path) differs from the frozen folder")
        }
    }
}
