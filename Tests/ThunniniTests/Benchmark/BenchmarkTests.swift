import Foundation
import Testing
@testable import Thunnini

/// `bench`'s settings and FLOP counts. Nothing here asserts a time: these
/// check what is timed and what the GFLOP/s column divides by.
@Suite struct BenchmarkTests {
    /// The demo LSTM's count by hand (Docs/performance.md, "FLOP counts"):
    /// 128 x (1 + 50) positions, each 2 V E + 2 (E + 64) 4 64 + 2 (64 + 32) 4 32
    /// + 2 32 V with V = 2, E = 16. Catches a count over T instead of 1 + K + T
    /// positions, or a missing factor 4 for the gates.
    @Test func demoLSTMForwardFlopsMatchTheHandCount() throws {
        let setting = try Benchmark.demoSetting(torso: "LSTM")
        let embedding: Double = 2 * 2 * 16, unembedding: Double = 2 * 32 * 2
        let layer1: Double = 2 * (16 + 64) * 4 * 64, layer2: Double = 2 * (64 + 32) * 4 * 32
        let perPosition = embedding + layer1 + layer2 + unembedding
        #expect(Benchmark.forwardFlops(setting, batch: 128, length: 50, prefixLength: 0) == 128 * 51 * perPosition)
        // A prefix of K = 6 adds 6 positions per sequence.
        #expect(Benchmark.forwardFlops(setting, batch: 128, length: 50, prefixLength: 6) == 128 * 57 * perPosition)
    }

    /// `bench --products` times the Dense products a pretraining step runs:
    /// for the demo transformer (E = 16, hidden [64, 32], widening 4) the
    /// projection [16, 16] and the MLP kernels [16, 256], [256, 16],
    /// [16, 128], [128, 16], each as forward, input and kernel gradient,
    /// over 128 x (1 + 50) positions (BOS included); for the demo LSTM the
    /// fused gate kernels [16 + 64, 256] and [64 + 32, 128] over the batch of
    /// one time step. Catches rows counted without BOS, the MLP's width
    /// without the widening, a repeated shape, or a kind left out.
    @Test func productsAreTheStepsDenseShapes() throws {
        let transformer = Benchmark.products(try Benchmark.demoSetting(torso: "Transformer"))
        let kernels = [(16, 16), (16, 256), (256, 16), (16, 128), (128, 16)]
        let expected = kernels.flatMap { kernel in
            Benchmark.Product.Kind.allCases.map {
                Benchmark.Product(kind: $0, inFeatures: kernel.0, outFeatures: kernel.1, rows: 128 * 51)
            }
        }
        #expect(transformer == expected)
        #expect(transformer.first?.flops == Double(2 * 128 * 51 * 16 * 16))
        let lstm = Benchmark.products(try Benchmark.demoSetting(torso: "LSTM"))
        #expect(lstm.map { [$0.inFeatures, $0.outFeatures, $0.rows] } == [[80, 256, 128], [80, 256, 128], [80, 256, 128],
                                                                          [96, 128, 128], [96, 128, 128], [96, 128, 128]])
    }

    /// The demo setting times all four phases on one source, with the
    /// methods the issue names (soft prefix, embedding).
    @Test func demoSettingHasEveryPhase() throws {
        let setting = try Benchmark.demoSetting(torso: "Transformer")
        #expect(setting.phases == Benchmark.Phase.allCases)
        #expect(setting.pretraining?.method == .fullParameters)
        #expect(setting.prefixTuning?.method == .prefixSoft && setting.prefixTuning?.prefixLength == 6)
        #expect(setting.weightTuning?.method == .embedding)
        #expect(setting.evaluation?.data.batchSize == 128 && setting.evaluation?.data.sequenceLength == 50)
        #expect(throws: ThunniniError.self) { try Benchmark.demoSetting(torso: "GRU") }
    }

    /// An experiment's setting takes each phase from the file: the first
    /// prefix method and the first weight method in file order (here listed
    /// after a method of the other kind, so picking "the first entry" or "the
    /// last of a kind" fails), the tuning source for tuning and the
    /// pretraining source for pretraining (different sources here), and the
    /// first evaluation source with the file's evaluation batch size.
    @Test func experimentSettingTakesEachPhaseFromTheFile() {
        var spec = smallSpec()
        spec.tuningConfigs = [spec.tuningConfigs[2], spec.tuningConfigs[1], spec.tuningConfigs[3], spec.tuningConfigs[0]]
        spec.tuningConfigs[1].config.learningRate = 0.25
        spec.tuningConfigs[1].config.prefixLength = 3
        spec.evalBatchSize = 3
        let setting = Benchmark.experimentSetting(spec)
        #expect(setting.phases == Benchmark.Phase.allCases)
        #expect(setting.prefixTuning?.method == .prefixSoft)
        #expect(setting.prefixTuning?.learningRate == 0.25 && setting.prefixTuning?.prefixLength == 3)
        #expect(setting.prefixTuning?.prefixInit == .oneHot)
        #expect(setting.weightTuning?.method == .fullParameters && setting.weightTuning?.prefixLength == 0)
        #expect(setting.prefixTuning?.data == spec.tuningDataConfig && setting.weightTuning?.data == spec.tuningDataConfig)
        #expect(setting.pretraining?.data == spec.pretraining?.dataConfig)
        #expect(setting.pretraining?.learningRate == 1e-3 && setting.pretraining?.method == .fullParameters)
        #expect(setting.evaluation?.data == spec.evalDataConfigs[0].config && setting.evaluation?.batchSize == 3)
    }

    /// Without pretraining or weight methods those phases are left out, and
    /// asking for one anyway is an error, not a run on some default.
    @Test func experimentSettingLeavesOutWhatTheFileLacks() throws {
        var spec = smallSpec()
        spec.pretraining = nil
        spec.predictorInitSeed = 0
        spec.tuningConfigs = spec.tuningConfigs.filter { $0.config.tuningMethod.isPrefixMethod }
        let setting = Benchmark.experimentSetting(spec)
        #expect(setting.phases == [.tunePrefix, .evaluate])
        #expect(throws: ThunniniError.self) { try Benchmark.run(setting, phase: .pretrain, steps: 1) }
    }

    /// One step of each phase runs at the file's shapes: tokens per step
    /// are the tuning source's for tuning, the evaluation source's for
    /// evaluation, and the FLOP count follows the prefix length and the
    /// products the step runs (no weight gradients in a prefix step).
    @Test func experimentPhasesRunAtTheFileShapes() throws {
        var spec = smallSpec()
        spec.pretraining?.dataConfig = .dirichletCategorical(.init(batchSize: 5, sequenceLength: 7, vocabSize: 2, alphas: [1, 1]))
        spec.evalDataConfigs[0].config = .categorical(.init(batchSize: 3, sequenceLength: 9, vocabSize: 2, biases: [0.2, 0.8]))
        let setting = Benchmark.experimentSetting(spec)
        let runs = try setting.phases.map { try Benchmark.run(setting, phase: $0, steps: 1) }
        #expect(runs.map(\.phase) == Benchmark.Phase.allCases)
        #expect(runs.map(\.tokensPerStep) == [5 * 7, 4 * 6, 4 * 6, 3 * 9])
        #expect(runs[0].flopsPerStep == 3 * Benchmark.forwardFlops(setting, batch: 5, length: 7, prefixLength: 0))
        let prefixRun = runs[1], weightRun = runs[2]
        // A prefix step's backward pass has no weight-gradient products: 2x.
        #expect(prefixRun.flopsPerStep == 2 * Benchmark.forwardFlops(setting, batch: 4, length: 6, prefixLength: 2))
        #expect(weightRun.flopsPerStep == 3 * Benchmark.forwardFlops(setting, batch: 4, length: 6, prefixLength: 0))
        #expect(runs[3].flopsPerStep == Benchmark.forwardFlops(setting, batch: 3, length: 9, prefixLength: 0))
        #expect(runs.allSatisfy { $0.torso == "Transformer" && $0.steps == 1 && $0.seconds > 0 })
    }
}
