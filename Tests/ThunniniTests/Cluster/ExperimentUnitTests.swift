import Foundation
import Testing
@testable import Thunnini

/// The decomposition of an experiment into units, in process: which units
/// there are, where their keys come from, and that running them in any
/// dependency-respecting order, each output passed through its on-disk
/// encoding, adds up to the one-process results byte for byte.
@Suite struct ExperimentUnitTests {
    /// `smallSpec()` with an LSTM torso (its reductions differ from the transformer's).
    func lstmSpec() -> ExperimentSpec {
        var spec = smallSpec()
        spec.name = "small-lstm"
        spec.torsoConfig = .lstm(LSTMTorsoConfig(isTrainable: true, hiddenSizes: [5, 3]))
        spec.tuningConfigs.removeAll { $0.config.tuningMethod == .loraFinetune }
        return spec
    }

    @Test func unitsListTheOneProcessOrderWithTheirDependencies() throws {
        let spec = smallSpec()
        let units = try spec.units(hardPrefixRanges: 3)
        #expect(units.map(\.name) == [
            "pretrain",
            "tune/RealPT/rep1", "tune/RealPT/rep2", "tune/SoftPT/rep1", "tune/SoftPT/rep2",
            "tune/FullWT/rep1", "tune/FullWT/rep2", "tune/LoRAWT/rep1", "tune/LoRAWT/rep2",
            "hard-prefix/candidates-0-0", "hard-prefix/candidates-1-1", "hard-prefix/candidates-2-3", "hard-prefix",
            "baseline/TargetBayes", "baseline/EvalBayes", "baseline/GroundTruth", "baseline/NoTuning",
            "baseline/RandomPF/rep1", "baseline/RandomPF/rep2", "baseline/PreBayes", "baseline/PreBayesPT",
            "dynamics",
        ])
        #expect(units.enumerated().allSatisfy { $0.offset == $0.element.index })
        // Every unit depends only on earlier ones (what makes `--of N` deadlock-free).
        #expect(units.allSatisfy { unit in unit.dependencies.allSatisfy { $0 < unit.index } })
        // Bayes baselines need no network; the winner needs every range; the
        // dynamics the first repetition of each prefix method, then the winner.
        #expect(units[13].dependencies.isEmpty && units[20].dependencies.isEmpty)
        #expect(units[12].dependencies == [0, 9, 10, 11])
        #expect(units[21].dependencies == [0, 1, 3, 12])
        // The ranges cover the 2^2 candidates once, in order.
        let ranges = units.compactMap { unit -> Range<Int>? in
            if case .hardPrefixCandidates(let range) = unit.kind { return range } else { return nil }
        }
        #expect(ranges.flatMap { Array($0) } == [0, 1, 2, 3])
        // One range is the unsplit search; more ranges than candidates are capped.
        #expect(try spec.units(hardPrefixRanges: 1).filter { $0.name.hasPrefix("hard-prefix") }.map(\.name) == ["hard-prefix"])
        #expect(try spec.units(hardPrefixRanges: 99).filter { $0.name.hasPrefix("hard-prefix/") }.count == 4)
    }

    @Test func theNotebookPlanHasEightyTuningUnitsAfterThePretraining() throws {
        let plan = try ExperimentPlan(spec: ExperimentSpec.load(from: exampleURL("notebook-default.json")))
        #expect(plan.units.count == 99)
        #expect(plan.units.filter { $0.name.hasPrefix("tune/") }.count == 80)
        #expect(plan.units.filter { $0.name.hasPrefix("tune/") }.allSatisfy { $0.dependencies == [0] })
        // Pretraining dominates the serial path: 1000 steps of 256 x 100 cost
        // more than any tuning unit (1001 steps of 256 x 50 plus evaluation).
        let pretrain = plan.estimates[0].seconds
        #expect(plan.estimates.dropFirst().allSatisfy { $0.seconds < pretrain })
        let one = plan.estimatedWallSeconds(machines: 1), hundred = plan.estimatedWallSeconds(machines: 100)
        #expect(abs(one - plan.estimates.reduce(0) { $0 + $1.seconds }) < 1e-6 * one)
        #expect(hundred >= pretrain && hundred < one / 10)
        #expect(plan.depths.max() == 2)  // pretrain -> tuning and hard prefix -> dynamics
    }

    /// Catches a unit that takes its prefix key from the wrong half of a split
    /// (`.split().0` for `.split().1`), restarts the chain per repetition, or
    /// leaves the data seed un-iterated: the documented chain is recomputed
    /// here by hand and compared with what the one-process run used.
    @Test func tuningRepetitionsStartFromTheDocumentedChains() throws {
        var spec = smallSpec()
        // Uniform starting prefixes: one-hot ones of 2 x 2 coincide by chance.
        for i in spec.tuningConfigs.indices where spec.tuningConfigs[i].config.tuningMethod.isPrefixMethod {
            spec.tuningConfigs[i].config.prefixInitMethod = .simplex
        }
        let runner = try ExperimentRunner(spec: spec, reportsProgress: false)
        let results = try runner.run()
        for name in ["RealPT", "SoftPT"] {
            let config = spec.tuningConfigs.first { $0.name == name }!.config
            let width = spec.predictorConfig.prefixWidth(config.tuningMethod.prefixType!)
            let chain0 = RandomKey(seed: UInt64(config.prefixInitSeed))
            let (chain1, key1) = chain0.split()
            let (_, key2) = chain1.split()
            for (repetition, key) in [(1, key1), (2, key2)] {
                let expected = Tuning.initialPrefix(length: config.prefixLength!, width: width, method: config.prefixInitMethod!, key: key)
                #expect(results.tuningRuns[name]![repetition - 1].initialPrefix == expected, "\(name) rep \(repetition)")
                #expect(runner.tuningStart(config, repetition: repetition).dataSeed == config.dataGenSeed + repetition)
            }
            #expect(results.tuningRuns[name]![0].initialPrefix != results.tuningRuns[name]![1].initialPrefix)
            // The other half of the first split would give another prefix: the comparison above can tell them apart.
            let wrongHalf = Tuning.initialPrefix(length: config.prefixLength!, width: width, method: config.prefixInitMethod!, key: chain1)
            #expect(results.tuningRuns[name]![0].initialPrefix != wrongHalf)
        }
        // The data seed of each repetition: a tuning run redone by hand from it has the same loss curve.
        let fullWT = spec.tuningConfigs.first { $0.name == "FullWT" }!.config
        let predictor = try Predictor(config: spec.predictorConfig, torsoConfig: spec.torsoConfig)
        let redone = try Tuning.tune(predictor: predictor, parameters: results.parameters, data: spec.tuningDataConfig,
                                     config: fullWT, overrideDataGenSeed: fullWT.dataGenSeed + 2)
        #expect(results.tuningRuns["FullWT"]![1].losses == redone.losses)
        #expect(results.tuningRuns["FullWT"]![0].losses != redone.losses)
    }

    /// Runs every unit in a shuffled order that respects dependencies, each
    /// output encoded as a part and decoded again before any unit reads it;
    /// the merged folder must equal the one-process folder file for file.
    /// Catches state leaking between units (a key chain advanced by an earlier
    /// unit), an order-dependent merge, and anything the part format loses.
    @Test(arguments: ["transformer", "lstm"])
    func unitsInAnyOrderThroughPartsGiveTheOneProcessFolder(_ torso: String) throws {
        let spec = torso == "lstm" ? lstmSpec() : smallSpec()
        let scratch = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let runner = try ExperimentRunner(spec: spec, reportsProgress: false)
        try runner.run().write(to: scratch.appendingPathComponent("one"))

        let plan = try ExperimentPlan(spec: spec, hardPrefixRanges: 3)
        let store = PartStore(directory: scratch.appendingPathComponent("dir"), plan: plan)
        let sources = try runner.evaluationSources()
        var decoded: [Int: ExperimentUnitOutput] = [:]
        var order = plan.units.map(\.index)
        var generator = LayerTestGenerator(seed: torso == "lstm" ? 7 : 11)
        order.shuffle(using: &generator)
        order.sort { plan.depths[$0] < plan.depths[$1] }  // stable: shuffled within a depth
        #expect(order != plan.units.map(\.index))
        for index in order {
            let unit = plan.units[index]
            let output = try runner.execute(unit, sources: sources) { decoded[$0]! }
            let files = try store.encode(output, of: unit)
            decoded[index] = try PartCodec.decode(files, unit: unit, spec: spec, source: unit.name)
        }
        let merged = try runner.assemble(units: plan.units, sources: sources) { decoded[$0]! }
        try merged.write(to: scratch.appendingPathComponent("merged"))
        let one = try directoryFiles(scratch.appendingPathComponent("one"))
        #expect(one.count >= 12 && one.keys.contains("dynamics/dynamics.npz"))
        #expect(try directoryFiles(scratch.appendingPathComponent("merged")) == one)
    }

    @Test func theChoiceOfAHardPrefixIsTheFirstLowestLoss() throws {
        // Candidates of V = 2, K = 2 in enumeration order: [1,1], [1,0], [0,1], [0,0].
        let tie = try HardPrefixSearch.choose(vocabSize: 2, length: 2, candidateLosses: [3, 1, 1, 2])
        #expect(tie.tokens == [1, 0] && tie.loss == 1)
        let nan = try HardPrefixSearch.choose(vocabSize: 2, length: 2, candidateLosses: [3, .nan, 2.5, 2.5])
        #expect(nan.tokens == [0, 1])
        #expect(throws: ThunniniError.self) { try HardPrefixSearch.choose(vocabSize: 2, length: 2, candidateLosses: [1, 2, 3]) }
    }
}

/// Every regular file under `directory` by relative path (`a/b.json`), with its bytes.
func directoryFiles(_ directory: URL, excludingTopLevel excluded: Set<String> = []) throws -> [String: Data] {
    var files: [String: Data] = [:]
    let base = directory.resolvingSymlinksInPath().path + "/"
    guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]) else { return [:] }
    for case let url as URL in enumerator where try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true {
        let path = String(url.resolvingSymlinksInPath().path.dropFirst(base.count))
        if let top = path.split(separator: "/").first, excluded.contains(String(top)) { continue }
        files[path] = try Data(contentsOf: url)
    }
    return files
}

/// The layer tests' SplitMix64 also shuffles unit orders.
extension LayerTestGenerator: RandomNumberGenerator {}
