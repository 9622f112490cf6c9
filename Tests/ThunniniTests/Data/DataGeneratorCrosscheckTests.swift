import Foundation
@testable import Thunnini
import Testing

/// The original's data-generator bundles (Golden/crosscheck/thunnini-jax/datagen_*):
/// `solve` and the ground truth on the bundle's sequences, within the
/// bundle's forward tolerance. The sampling itself (JAX's PRNG) is not
/// reproduced; the latent parameter of each sequence is read off
/// ground_truth_log_probs[:, 0, :].
@Suite("Data generator cross-check bundles")
struct DataGeneratorCrosscheckTests {
    static let bundleNames = ["datagen_categorical_v3", "datagen_mixture_v2", "datagen_dirichlet_v3"]

    /// The folder of a bundle, found from this file's location.
    static func bundleFolder(_ name: String, _ filePath: String = #filePath) -> URL {
        URL(fileURLWithPath: filePath)  // Tests/ThunniniTests/Data/<this file>
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Golden/crosscheck/thunnini-jax/\(name)")
    }

    /// |a - b| <= atol + rtol |b| elementwise (b is the reference), with
    /// infinities required to agree exactly.
    static func expectClose(_ actual: Tensor, _ reference: Tensor, atol: Double, rtol: Double,
                            _ what: String) {
        #expect(actual.shape == reference.shape, "\(what): shape \(actual.shape) vs \(reference.shape)")
        guard actual.shape == reference.shape else { return }
        var worst = 0.0, failures = 0
        for i in 0..<actual.count {
            let a = actual.storage[i], b = reference.storage[i]
            if a == b { continue }
            let excess = abs(a - b) - (atol + rtol * abs(b))
            if !(excess <= 0) { failures += 1; worst = max(worst, abs(a - b)) }
        }
        #expect(failures == 0, "\(what): \(failures) entries out of tolerance, worst |diff| \(worst)")
    }

    @Test(arguments: bundleNames)
    func solveAndGroundTruthReproduceTheBundle(_ name: String) throws {
        let folder = Self.bundleFolder(name)
        let bundleJSON = try Data(contentsOf: folder.appendingPathComponent("bundle.json"))
        let bundle = try #require(try JSONSerialization.jsonObject(with: bundleJSON) as? [String: Any])
        let configJSON = try JSONSerialization.data(withJSONObject: try #require(bundle["datagen_config"]))
        let config = try JSONDecoder().decode(DataGeneratorConfig.self, from: configJSON)
        let tolerance = try #require((bundle["tolerance"] as? [String: Any])?["forward"] as? [String: Double])
        let atol = try #require(tolerance["atol"]), rtol = try #require(tolerance["rtol"])
        let arrays = try NPZ.read(folder.appendingPathComponent("arrays.npz"))
        let sequences = try #require(arrays["sequences"])
        let referenceGroundTruth = try #require(arrays["ground_truth_log_probs"])

        let generator = try makeDataGenerator(config)
        let (logProbs, losses) = generator.solve(sequences: sequences)
        Self.expectClose(logProbs, try #require(arrays["bayes_log_probs"]), atol: atol, rtol: rtol, "\(name) bayes_log_probs")
        Self.expectClose(losses, try #require(arrays["bayes_instant_losses"]), atol: atol, rtol: rtol, "\(name) bayes_instant_losses")

        // Ground truth: log(theta_b) at every step, theta_b the latent of sequence b.
        let batchSize = sequences.shape[0], length = sequences.shape[1], v = sequences.shape[2]
        var groundTruth = Tensor(shape: sequences.shape)
        for b in 0..<batchSize {
            let logTheta = try Self.latentLogProbabilities(
                of: generator, recordedFirstStep: (0..<v).map { referenceGroundTruth[b, 0, $0] },
                atol: atol, rtol: rtol)
            for t in 0..<length {
                for token in 0..<v { groundTruth[b, t, token] = logTheta[token] }
            }
        }
        Self.expectClose(groundTruth, referenceGroundTruth, atol: atol, rtol: rtol, "\(name) ground_truth_log_probs")
        Self.expectClose(instantLogLosses(logits: groundTruth, sequences: sequences),
                         try #require(arrays["ground_truth_instant_losses"]), atol: atol, rtol: rtol,
                         "\(name) ground_truth_instant_losses")
    }

    /// log(theta) of one sequence given the recorded first-step ground truth:
    /// Categorical has no latent (log biases); a mixture's component is the
    /// one whose log biases match the record; a Dirichlet draw is the
    /// recorded probabilities themselves, which must form a distribution.
    static func latentLogProbabilities(of generator: any DataGenerator, recordedFirstStep: [Double],
                                       atol: Double, rtol: Double) throws -> [Double] {
        func matches(_ candidate: [Double]) -> Bool {
            zip(candidate, recordedFirstStep).allSatisfy { abs($0 - $1) <= atol + rtol * abs($1) }
        }
        switch generator {
        case let categorical as CategoricalGenerator:
            return categorical.biases.map { log($0) }
        case let mixture as MixtureOfCategoricalsGenerator:
            let components = mixture.biases.map { row in row.map { log($0) } }
            let matching = components.filter(matches)
            try #require(matching.count == 1, "no unique mixture component matches \(recordedFirstStep)")
            return matching[0]
        case is DirichletCategoricalGenerator:
            let theta = recordedFirstStep.map { exp($0) }
            #expect(abs(theta.reduce(0, +) - 1) <= 1e-5 && theta.allSatisfy { $0 > 0 },
                    "recorded Dirichlet draw \(theta) is not a distribution")
            return theta.map { log($0) }
        default:
            throw ThunniniError("no latent recovery for \(type(of: generator))")
        }
    }
}
