import Foundation
import Testing
@testable import Thunnini

@Suite struct ParameterTreeTests {
    @Test func npzRoundTripKeepsPathsAndValues() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let predictor = try TorsoCases.predictor("transformer-lora-bias-2-layers")
        let tree = TorsoCases.noisyParameters(predictor)
        let url = directory.appendingPathComponent("params.npz")
        try tree.save(npz: url)
        let loaded = try ParameterTree.load(npz: url)
        #expect(loaded == tree)
        try predictor.checkParameters(loaded)
    }

    @Test func theOriginalsParametersLoadUnchanged() throws {
        // The lstm bundle's arrays.npz holds the original's parameters under
        // their Flax paths, next to other arrays: keep the params/ ones.
        let arrays = try NPZ.read(bundleDirectory("lstm").appendingPathComponent("arrays.npz"))
        let tree = ParameterTree(arrays.filter { $0.key.hasPrefix("params/") })
        let bundle = try CrosscheckBundle.load(directory: bundleDirectory("lstm"))
        let predictor = try Predictor(config: bundle.predictorConfig!, torsoConfig: bundle.torsoConfig!)
        try predictor.checkParameters(tree)
    }

    @Test func nonParameterArraysAreRefused() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("mixed.npz")
        try NPZ.write(["params/embedding/bias": Tensor(shape: [2]), "sequences": Tensor(shape: [1])], to: url)
        expectThunniniError(["'sequences'", "params/"]) { _ = try ParameterTree.load(npz: url) }
    }

    @Test func structureMismatchNamesThePath() throws {
        let predictor = try TorsoCases.predictor("lstm-2-layers")
        var tree = predictor.initialParameters(seed: 0)
        tree["params/embedding/kernel"] = Tensor(shape: [1, 1])
        expectThunniniError(["params/embedding/kernel", "[1, 1]"]) { try predictor.checkParameters(tree) }
    }

    /// Another seed gives other values at every path (a path initialised
    /// from a fixed key, or zero-initialised where it should be drawn, fails).
    /// Which keys the values come from: `FidelityTests.pretrainingDrawsFromTheDocumentedKeys`.
    @Test func everyDrawnPathDependsOnTheSeed() throws {
        let predictor = try TorsoCases.predictor("lstm-2-layers")
        let (a, b) = (predictor.initialParameters(seed: 3), predictor.initialParameters(seed: 4))
        for path in a.paths where a[path].storage.contains(where: { $0 != 0 }) {
            #expect(a[path] != b[path], "\(path)")
        }
        #expect(a.paths.filter { a[$0].storage.contains { $0 != 0 } }.count >= 6)
    }
}
