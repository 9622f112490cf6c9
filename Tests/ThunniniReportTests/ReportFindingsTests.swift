import Foundation
import Testing
@testable import Thunnini
@testable import ThunniniReport

/// The checks of the paper's claims read the right numbers, pair them over
/// the evaluation sequences, and give the verdict the numbers call for.
@Suite(.serialized) final class ReportFindingsTests {
    let scratch: URL
    init() throws { scratch = try makeScratchDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    func goldenFolder() throws -> ResultsFolder {
        try ResultsFolder.load(from: reportPackageRoot.appendingPathComponent(ReportGolden.resultsPath))
    }

    func finding(_ id: String, in findings: [Finding]) throws -> Finding {
        try #require(findings.first { $0.id == id }, "no finding '\(id)' in \(findings.map(\.id))")
    }

    /// An untrained, trainable LSTM tuned to a single coin by a soft prefix
    /// (which moves its predictions a lot) and by full weight tuning at
    /// learning rate 1e-12 (which leaves the network as it is).
    func disabledWeightTuning() throws -> ExperimentSpec {
        let coin = DataGeneratorConfig.categorical(CategoricalGeneratorConfig(batchSize: 16, sequenceLength: 10, vocabSize: 2, biases: [0.2, 0.8]))
        var evalCoin = coin
        if case .categorical(var c) = evalCoin { c.batchSize = 256; evalCoin = .categorical(c) }
        func tuning(_ method: TuningMethod, _ rate: Double) -> TuningConfig {
            TuningConfig(numTuningSteps: 40, learningRate: rate, maxGradNorm: 1, dataGenSeed: 10, prefixInitSeed: 11,
                         tuningMethod: method, numTuningRepetitions: 2, prefixLength: method.isPrefixMethod ? 3 : nil,
                         prefixInitMethod: method.isPrefixMethod ? .oneHot : nil)
        }
        let json = """
            {"name": "weight tuning disabled", "predictor_config": {"token_dimensionality": 2, "embedding_dimensionality": 8},
             "torso_config": {"torso_type": "LSTM", "is_trainable": true, "hidden_sizes": [8]},
             "predictor_init_seed": 3, "tuning_data_config": \(String(decoding: try JSONEncoder().encode(coin), as: UTF8.self)),
             "tuning_configs": [], "eval_data_configs": [{"name": "Coin", "config": \(String(decoding: try JSONEncoder().encode(evalCoin), as: UTF8.self))}],
             "eval_datagen_seed": 0, "baselines": ["TargetBayes", "NoTuning", "GroundTruth"]}
            """
        var spec = try JSONOutput.decode(ExperimentSpec.self, from: Data(json.utf8), source: "test spec")
        spec.tuningConfigs = [.init(name: "SoftPT", config: tuning(.prefixSoft, 0.1)), .init(name: "FullWT", config: tuning(.fullParameters, 1e-12))]
        try spec.validate()
        return spec
    }

    /// With weight tuning effectively disabled, "weight tuning beats every
    /// prefix method" must come out *does not hold* (a sign error or a
    /// comparison against NoTuning instead of the best prefix method would
    /// say holds or inconclusive), while FullWT against NoTuning, equal up
    /// to rounding, must be inconclusive (not a verdict on 1e-12 nats).
    @Test func disabledWeightTuningDoesNotBeatPrefixes() throws {
        let spec = try disabledWeightTuning()
        let folderURL = scratch.appendingPathComponent("disabled")
        try ExperimentRunner(spec: spec, reportsProgress: false).run().write(to: folderURL)
        let findings = Findings.check(try ResultsFolder.load(from: folderURL))
        let weights = try finding("6 FullWT", in: findings)
        #expect(weights.verdict == .doesNotHold, "\(weights.statement) margin \(String(describing: weights.margin))")
        #expect(try finding("1 FullWT", in: findings).verdict == .inconclusive)
        #expect(try finding("1 SoftPT", in: findings).verdict == .holds)
        // Checks that need pretraining or PreBayesPT say why they do not apply.
        for id in ["4", "7", "8"] {
            let f = try finding(id, in: findings)
            #expect(f.verdict == .notApplicable && f.statement.contains("Not applicable: needs"), "\(f.statement)")
        }
    }

    /// A table cell's standard error, computed by hand from the stored
    /// per-sequence regrets (mean over repetitions per sequence, sample
    /// standard deviation over sequences / sqrt(B)), and the mean of those
    /// regrets equals the summary's mean cumulative regret. Catches an SE over
    /// repetitions instead of sequences, a population (B) instead of sample
    /// (B - 1) variance, and per-sequence values at the wrong mark.
    @Test func tableCellStandardErrorMatchesAHandComputation() throws {
        let folder = try goldenFolder()
        let source = "Single Coin", method = "SoftPT"
        let raw = try NPZ.read(reportPackageRoot.appendingPathComponent(ReportGolden.resultsPath)
            .appendingPathComponent("evaluation/\(source)/per_sequence_regret.npz"))
        let tensor = try #require(raw[method])
        let (reps, marks, b) = (tensor.shape[0], tensor.shape[1], tensor.shape[2])
        #expect(reps == 2 && b == 16, "the golden experiment's shape: \(tensor.shape)")
        let summary = try #require(folder.summaries.first { $0.source == source && $0.method == method })
        #expect(marks == summary.cumulativeRegretAtMarks.count)
        for (m, mark) in summary.cumulativeRegretAtMarks.enumerated() {
            var x = [Double](repeating: 0, count: b)
            for r in 0..<reps { for i in 0..<b { x[i] += tensor.storage[(r * marks + m) * b + i] / Double(reps) } }
            let mean = x.reduce(0, +) / Double(b)
            let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(b - 1)
            let se = (variance / Double(b)).squareRoot()
            let e = Uncertainty.estimate(try #require(SequenceSamples.read(folder, source: source, method: method, mark: mark.label)))
            #expect(abs(e.mean - mean) < 1e-12 && abs(e.sequenceSE - se) < 1e-12, "\(mark.label): \(e) vs \(mean) ± \(se)")
            // The per-sequence regrets average to the regret curves' value at n.
            let fromCurves = summary.cumulativeRegret.map { $0[mark.n - 1] }.reduce(0, +) / Double(reps)
            #expect(abs(mean - fromCurves) < 1e-9, "\(mark.label): \(mean) vs \(fromCurves)")
            // And the report prints that cell.
            let cell = "\(NiceTicks.label(mean, decimals: 3)) ± \(NiceTicks.label(se, decimals: 3))"
            let markdown = try Report.render([Report.Chapter(results: folder)]).markdown
            #expect(markdown.contains("| \(method) | prefix tuning | \(reps) | ") && markdown.contains(cell), "no cell \(cell)")
        }
    }

    /// Per-sequence regret after n predictions, by hand on a 2 x 4 example,
    /// with marks out of order (N_tune = 3 after N_train = 2): catches a
    /// running sum that assumes increasing marks or sums the wrong way round.
    @Test func perSequenceRegretByHand() throws {
        var spec = try disabledWeightTuning()
        if case .categorical(var c) = spec.tuningDataConfig { c.sequenceLength = 3; spec.tuningDataConfig = .categorical(c) }
        spec.pretraining = PretrainingSpec(dataConfig: .categorical(CategoricalGeneratorConfig(batchSize: 1, sequenceLength: 2, vocabSize: 2, biases: [0.5, 0.5])),
                                           trainingConfig: TrainingConfig(numTrainingSteps: 1, learningRate: 1e-3, maxGradNorm: 1, dataGenSeed: 0, predictorInitSeed: 0))
        let results = ExperimentResults(spec: spec)
        #expect(results.marks(evalLength: 4).map(\.n) == [3, 2, 4])
        let losses = Tensor(shape: [2, 4], storage: [1, 2, 3, 4, 0.5, 0.5, 0.5, 0.5])
        let truth = Tensor(shape: [2, 4], storage: [1, 1, 1, 1, 1, 0, 0, 0])
        let out = results.perSequenceRegret(losses: losses, groundTruth: truth)
        #expect(out.shape == [3, 2])
        // Sequence 0: regrets 0, 1, 2, 3; sequence 1: -0.5, 0.5, 0.5, 0.5.
        #expect(out.storage == [3, 0.5, 1, 0, 6, 1])
    }

    /// The summary line counts every verdict, and a check that lacks its
    /// methods is listed as not applicable (never dropped).
    @Test func everyCheckIsListed() throws {
        let findings = Findings.check(try goldenFolder())
        let ids = Set(findings.map { $0.id.split(separator: " ").first.map(String.init) ?? "" })
        #expect(ids == Set((1...8).map(String.init)), "\(ids.sorted())")
        let summary = Findings.summary(findings)
        let counted = summary.split(separator: "/").compactMap { $0.trimmingCharacters(in: .whitespaces).split(separator: " ").first.flatMap { Int($0) } }
        #expect(counted.reduce(0, +) == findings.count, "\(summary)")
    }

    /// The pretraining Bayes predictor after a hard prefix, by hand: Dirichlet
    /// [1, 1] after tokens 1, 1, 0 has alphas [2, 3]; the 0.5/0.5 mixture of
    /// 0.2/0.8 and 0.8/0.2 after token 1 weighs its components 0.8/0.2; a
    /// single coin does not change. Catches counts added to the wrong token,
    /// weights not normalised, and a predictor left unconditioned.
    @Test func bayesPredictorAfterAPrefixByHand() throws {
        let dirichlet = DataGeneratorConfig.dirichletCategorical(.init(batchSize: 1, sequenceLength: 5, vocabSize: 2, alphas: [1, 1]))
        guard case .dirichletCategorical(let d) = try #require(ExperimentFigures.bayesPredictor(dirichlet, after: [1, 1, 0])) else {
            Issue.record("not a Dirichlet"); return
        }
        #expect(d.alphas == [2, 3])
        let mixture = DataGeneratorConfig.mixtureOfCategoricals(.init(batchSize: 1, sequenceLength: 5, vocabSize: 2,
                                                                      mixingWeights: [0.5, 0.5], biases: [[0.2, 0.8], [0.8, 0.2]]))
        guard case .mixtureOfCategoricals(let m) = try #require(ExperimentFigures.bayesPredictor(mixture, after: [1])) else {
            Issue.record("not a mixture"); return
        }
        #expect(abs(m.mixingWeights[0] - 0.8) < 1e-15 && abs(m.mixingWeights[1] - 0.2) < 1e-15)
        let coin = DataGeneratorConfig.categorical(.init(batchSize: 1, sequenceLength: 5, vocabSize: 2, biases: [0.2, 0.8]))
        #expect(ExperimentFigures.bayesPredictor(coin, after: [0, 1]) == coin)
        #expect(ExperimentFigures.bayesPredictor(dirichlet, after: [2]) == nil)
    }

    /// In the golden folder PreBayesPT gets an exact curve, distinct from
    /// PreBayes's (its prefix moves the prior), and its sampled value at every
    /// mark lies within 4 standard errors of it.
    @Test func preBayesPTHasAnExactValueNearItsSampledOne() throws {
        let folder = try goldenFolder()
        let figures = ExperimentFigures(results: folder, prefix: "")
        for source in folder.spec.evalDataConfigs {
            let exact = try figures.exactCurves(source)
            let ideal = try #require(exact.first { $0.method == "PreBayesPT" }, "no exact PreBayesPT on \(source.name)")
            let plain = try #require(exact.first { $0.method == "PreBayes" })
            #expect(ideal.cumulative != plain.cumulative)
            let summary = try #require(folder.summaries.first { $0.source == source.name && $0.method == "PreBayesPT" })
            for mark in summary.cumulativeRegretAtMarks {
                let e = Uncertainty.estimate(try #require(SequenceSamples.read(folder, source: source.name, method: "PreBayesPT", mark: mark.label)))
                #expect(abs(e.mean - ideal.cumulative[mark.n - 1]) <= 4 * e.standardError + 1e-9,
                        "\(source.name) \(mark.label): sampled \(e.mean) ± \(e.standardError), exact \(ideal.cumulative[mark.n - 1])")
            }
        }
    }
}
