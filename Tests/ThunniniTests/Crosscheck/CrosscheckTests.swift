import Foundation
import Testing
@testable import Thunnini

/// The original's own numbers: every public bundle under
/// Golden/crosscheck/thunnini-jax, run through `Crosscheck` exactly as
/// `thunnini-ref crosscheck` does.
@Suite struct CrosscheckTests {
    static let predictorBundles = ["linear", "lstm", "transformer_lora", "transformer_bias_v3"]
    static let datagenBundles = ["datagen_categorical_v3", "datagen_dirichlet_v3", "datagen_mixture_v2"]

    /// Forward values and gradients: the arrays of the predictor issue.
    static func isForwardOrGradient(_ name: String) -> Bool {
        name.hasPrefix("case/") || name.hasSuffix("/loss") || name.contains("/grad/") || name.hasSuffix("grad_global_norm")
    }

    @Test("forward values and gradients match the original", arguments: predictorBundles)
    func predictorForwardAndGradients(name: String) throws {
        let report = try Crosscheck.run(directory: bundleDirectory(name))
        let relevant = report.comparisons.filter { Self.isForwardOrGradient($0.name) }
        // Every forward case and every method's gradient must have been compared.
        let bundle = try CrosscheckBundle.load(directory: bundleDirectory(name))
        // (`case/<type>/prefix` is an input, not an output.)
        let expected = bundle.arrays.keys.filter { Self.isForwardOrGradient($0) && !($0.hasPrefix("case/") && $0.hasSuffix("/prefix")) }
        #expect(Set(relevant.map(\.name)) == Set(expected))
        for comparison in relevant { #expect(comparison.passed, "\(name): \(comparison.summary)") }
    }

    @Test("per-step losses and unclipped gradient norms match the original", arguments: predictorBundles)
    func predictorStepCurves(name: String) throws {
        let report = try Crosscheck.run(directory: bundleDirectory(name))
        let steps = report.comparisons.filter { $0.name.hasSuffix("step_losses") || $0.name.hasSuffix("step_grad_norms_unclipped") }
        #expect(!steps.isEmpty)
        for comparison in steps { #expect(comparison.passed, "\(name): \(comparison.summary)") }
    }

    @Test("data-generator bundles pass completely", arguments: datagenBundles)
    func datagenBundles(name: String) throws {
        let report = try Crosscheck.run(directory: bundleDirectory(name))
        #expect(report.passed(requireAll: true), "\(report.comparisons.filter { !$0.passed }.map(\.summary)) \(report.uncompared)")
        #expect(report.comparisons.count == 4)
    }
}

/// Bad bundles end in one clear `ThunniniError`, never a crash.
@Suite final class CrosscheckBadInputTests {
    let scratch: URL

    init() throws { scratch = try makeTemporaryDirectory() }
    deinit { try? FileManager.default.removeItem(at: scratch) }

    /// A copy of bundle `name` whose files can be edited.
    func copy(of name: String) throws -> URL {
        let directory = scratch.appendingPathComponent(UUID().uuidString)
        try FileManager.default.copyItem(at: bundleDirectory(name), to: directory)
        return directory
    }

    @Test func missingFile() throws {
        let directory = try copy(of: "linear")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("arrays.npz"))
        expectThunniniError(["arrays.npz"]) { _ = try Crosscheck.run(directory: directory) }
    }

    @Test func truncatedNPZ() throws {
        let directory = try copy(of: "lstm")
        let url = directory.appendingPathComponent("arrays.npz")
        let data = try Data(contentsOf: url)
        try data.prefix(data.count / 2).write(to: url)
        expectThunniniError(["arrays.npz"]) { _ = try Crosscheck.run(directory: directory) }
    }

    @Test func wrongDtype() throws {
        // Replace one array with a complex-valued .npy, which the reader refuses.
        let directory = try copy(of: "linear")
        let url = directory.appendingPathComponent("arrays.npz")
        var entries = try NPZ.read(url).mapValues { NPY.encode($0) }
        var npy = entries["sequences"]!
        let header = String(decoding: npy.prefix(128), as: UTF8.self).replacingOccurrences(of: "'<f8'", with: "'<c8'")
        npy.replaceSubrange(0..<128, with: Data(header.utf8))
        entries["sequences"] = npy
        try NPZ.encode(entries: entries, destination: url.path).write(to: url)
        expectThunniniError(["sequences"]) { _ = try Crosscheck.run(directory: directory) }
    }

    @Test func wrongParameterShape() throws {
        let directory = try copy(of: "linear")
        let url = directory.appendingPathComponent("arrays.npz")
        var arrays = try NPZ.read(url)
        arrays["params/embedding/kernel"] = Tensor(shape: [8, 2])
        try NPZ.write(arrays, to: url)
        expectThunniniError(["params/embedding/kernel"]) { _ = try Crosscheck.run(directory: directory) }
    }

    @Test func unknownTorsoType() throws {
        let directory = try copy(of: "lstm")
        try editJSON(directory) { json in
            var torso = json["torso_config"] as! [String: Any]
            torso["torso_type"] = "GRU"
            json["torso_config"] = torso
        }
        expectThunniniError(["torso_type", "GRU"]) { _ = try Crosscheck.run(directory: directory) }
    }

    @Test func configFailingValidation() throws {
        let directory = try copy(of: "transformer_lora")
        try editJSON(directory) { json in
            var torso = json["torso_config"] as! [String: Any]
            torso["num_attention_heads"] = 3
            json["torso_config"] = torso
        }
        expectThunniniError(["num_attention_heads"]) { _ = try Crosscheck.run(directory: directory) }
    }

    func editJSON(_ directory: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = directory.appendingPathComponent("bundle.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }
}

/// The complete comparison, optimizer steps included: every public float32
/// bundle passes with nothing left uncompared, and the float64 runs of the
/// original (Golden/crosscheck/thunnini-jax-f64) pass at atol 1e-9, rtol 1e-7
/// without needing any step allowance.
@Suite struct CompleteCrosscheckTests {
    static let float64Bundles = ["linear_f64", "lstm_f64", "transformer_lora_f64", "transformer_bias_v3_f64"]

    @Test("every public bundle passes completely", arguments: CrosscheckTests.predictorBundles + CrosscheckTests.datagenBundles)
    func publicBundle(name: String) throws {
        let report = try Crosscheck.run(directory: bundleDirectory(name))
        #expect(report.passed(requireAll: true), "\(report.comparisons.filter { !$0.passed }.map(\.summary)) uncompared: \(report.uncompared)")
    }

    @Test("the original's float64 numbers match tightly, with no allowance", arguments: float64Bundles)
    func float64Bundle(name: String) throws {
        let directory = repositoryRoot().appendingPathComponent("Golden/crosscheck/thunnini-jax-f64/\(name)")
        let report = try Crosscheck.run(directory: directory)
        #expect(report.passed(requireAll: true), "\(report.comparisons.filter { !$0.passed }.map(\.summary)) uncompared: \(report.uncompared)")
        #expect(report.comparisons.allSatisfy { $0.acceptedByAllowanceOnly == 0 })
        let bundle = try CrosscheckBundle.load(directory: directory)
        // Every comparison kind is held to the float64 tolerances (a looser forward tolerance would let a forward slip through).
        for tolerance in [bundle.tolerance.forward, bundle.tolerance.grad, bundle.tolerance.afterStep] {
            #expect(tolerance.atol <= 1e-9 && tolerance.rtol <= 1e-7, "\(name): \(tolerance)")
        }
    }

    @Test("the step allowance is needed only where float32 noise is amplified by Adam")
    func allowanceUsage() throws {
        var used: [String: Int] = [:]
        for name in CrosscheckTests.predictorBundles {
            for comparison in try Crosscheck.run(directory: bundleDirectory(name)).comparisons where comparison.acceptedByAllowanceOnly > 0 {
                used["\(name):\(comparison.name)"] = comparison.acceptedByAllowanceOnly
            }
        }
        // Exactly the elements the float64 run of the original shows to be float32 artefacts (Docs/crosscheck.md).
        let keyBias = "tuning/full_parameters/after_step%d/params/TransformerPredictorTorso_0/MultiheadAttention_0/key/key/bias"
        #expect(used == [
            "transformer_bias_v3:" + String(format: keyBias, 1): 3,
            "transformer_bias_v3:" + String(format: keyBias, 3): 6,
            "transformer_lora:tuning/full_parameters/after_step3/params/TransformerPredictorTorso_0/Dense_1/kernel": 1,
        ])
    }
}
