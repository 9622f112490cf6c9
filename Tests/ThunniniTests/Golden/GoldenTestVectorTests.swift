import Foundation
import Testing
@testable import Thunnini

/// The shipped test vectors under Golden/testvectors still match what
/// `thunnini-ref golden --update` would write, and the check notices changes.
@Suite final class GoldenTestVectorTests {
    let scratch: URL

    init() throws { scratch = try makeTemporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    var golden: URL { repositoryRoot().appendingPathComponent("Golden") }

    @Test(arguments: GoldenRegistry.testVectors.map(\.name))
    func matchesStoredBundle(name: String) throws {
        let vector = try #require(GoldenRegistry.testVectors.first { $0.name == name })
        let mismatches = try vector.compare(against: golden)
        #expect(mismatches.isEmpty, "\(mismatches.map(\.description).joined(separator: "; "))")
    }

    @Test func namesAreUniqueAndNothingIsOrphaned() {
        let names = GoldenRegistry.testVectors.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(GoldenTestVector.orphanedDirectories(in: golden, vectors: GoldenRegistry.testVectors).isEmpty)
    }

    /// The set stays small enough to ship ("a few hundred KB").
    @Test func storedVectorsAreSmall() throws {
        var total = 0
        for vector in GoldenRegistry.testVectors {
            for file in ["bundle.json", "arrays.npz"] {
                let path = vector.directory(in: golden).appendingPathComponent(file).path
                total += (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            }
        }
        #expect(total > 0 && total < 600_000, "\(total) bytes")
    }

    /// Coverage of the standard configurations: every torso with 1 and 2
    /// layers, LoRA on and off, V = 2 and 3, every tuning method somewhere,
    /// clipping active in some bundle and not in another, every generator with V = 2 and 3.
    @Test func vectorsCoverTheStandardConfigurations() throws {
        let bundles = try GoldenRegistry.testVectors.map { try $0.produce() }
        let predictors = bundles.filter { $0.kind == .predictor }
        for torso in TorsoConfig.torsoTypes {
            let layers = Set(predictors.filter { $0.torsoConfig?.torsoType == torso }.map { $0.torsoConfig!.hiddenSizes.count })
            #expect(layers == [1, 2], "\(torso)")
        }
        let lora = predictors.compactMap { bundle -> Bool? in
            if case .transformer(let t) = bundle.torsoConfig { return t.useLoRA }
            return nil
        }
        #expect(Set(lora) == [true, false])
        #expect(Set(predictors.map { $0.predictorConfig!.tokenDimensionality }) == [2, 3])
        #expect(Set(predictors.flatMap { $0.tuning.keys }) == Set(TuningMethod.allCases.map(\.rawValue)))
        var clipped = Set<Bool>()
        for bundle in predictors {
            for method in bundle.tuning.keys {
                let norms = try bundle.array("tuning/\(method)/step_grad_norms_unclipped").storage
                clipped.formUnion(norms.map { $0 >= bundle.optimizer!.maxGradNorm })
            }
        }
        #expect(clipped == [true, false])
        let sources = bundles.compactMap(\.datagenConfig)
        for type in DataGeneratorConfig.generatorTypes {
            #expect(Set(sources.filter { $0.generatorType == type }.map(\.vocabSize)) == [2, 3], "\(type)")
        }
    }

    /// A stored vector that differs in one value, or lacks an array, fails the check naming it.
    @Test func detectsChangedAndMissingArrays() throws {
        let vector = try #require(GoldenRegistry.testVectors.first { $0.name == "linear_1layer_v2" })
        try vector.write(to: scratch)
        #expect(try vector.compare(against: scratch).isEmpty)
        let directory = vector.directory(in: scratch)
        var arrays = try NPZ.read(directory.appendingPathComponent("arrays.npz"))
        arrays["case/simplex/logits"]!.storage[3] *= 1 + 1e-10
        try NPZ.write(arrays, to: directory.appendingPathComponent("arrays.npz"))
        let problems = try vector.compare(against: scratch)
        #expect(problems.map(\.arrayName) == ["case/simplex/logits"])
        #expect(problems.first?.problem.contains("[0, 1, 1]") == true)

        arrays["case/simplex/logits"] = nil
        try NPZ.write(arrays, to: directory.appendingPathComponent("arrays.npz"))
        // The bundle no longer loads (bundle.json lists the array): one clear error.
        expectThunniniError(["case/simplex/logits", "missing"]) { _ = try vector.compare(against: scratch) }
        #expect(GoldenTestVector.orphanedDirectories(in: scratch, vectors: []).map(\.lastPathComponent) == ["linear_1layer_v2"])
    }
}
