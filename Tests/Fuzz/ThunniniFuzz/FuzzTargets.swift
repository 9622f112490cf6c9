import Foundation
import Thunnini

// libFuzzer targets for the readers of untrusted input (Tests/Fuzz/README.md).
// Built only with THUNNINI_FUZZ=1 (see Package.swift) and
// `-sanitize=fuzzer,address`; THUNNINI_FUZZ_TARGET selects the reader.
// Every input must end in a value or a ThunniniError: a trap, an address
// sanitizer report or an uncaught error is a crash for libFuzzer.

/// The readers, by target name.
enum FuzzTarget: String, CaseIterable {
    case npy, npz, config, experiment, bundle, golden

    func run(_ data: Data) {
        do {
            switch self {
            case .npy:
                _ = try NPY.decode(data, name: "fuzz")
            case .npz:
                _ = try NPZ.read(data, source: "fuzz.npz")
            case .config:
                // One byte picks the config type, as each file holds one.
                guard let selector = data.first else { return }
                let body = data.dropFirst()
                switch selector % 5 {
                case 0: _ = try decodeConfig(DataGeneratorConfig.self, from: body, source: "fuzz.json")
                case 1: _ = try decodeConfig(PredictorConfig.self, from: body, source: "fuzz.json")
                case 2: _ = try decodeConfig(TorsoConfig.self, from: body, source: "fuzz.json")
                case 3: _ = try decodeConfig(TrainingConfig.self, from: body, source: "fuzz.json")
                default: _ = try decodeConfig(TuningConfig.self, from: body, source: "fuzz.json")
                }
            case .experiment:
                let spec = try ExperimentSpec.decode(from: data, source: "fuzz.json")
                // The estimate must be computable for every valid spec (no overflow trap).
                try spec.memoryEstimate().check(source: "fuzz.json", budget: 1 << 30)
            case .bundle:
                // bundle.json, a line "--arrays.npz--", then the archive.
                let separator = Data("\n--arrays.npz--\n".utf8)
                guard let split = data.range(of: separator) else { return }
                let json = data[data.startIndex..<split.lowerBound]
                let npz = Data(data[split.upperBound...])
                _ = try CrosscheckBundle.load(json: Data(json), jsonSource: "bundle.json",
                                              npz: { try NPZ.read(npz, source: "arrays.npz") }, npzSource: "arrays.npz")
            case .golden:
                _ = try GoldenFile.parse(String(decoding: data, as: UTF8.self), source: "fuzz.golden.txt")
            }
        } catch is ThunniniError {
            // The expected outcome for bad input.
        } catch {
            fatalError("\(rawValue): an error that is not a ThunniniError escaped: \(error)")
        }
    }
}

let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["THUNNINI_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        fatalError("set THUNNINI_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))")
    }
    return target
}()

/// A small memory budget, so that sizes from input are refused rather than allocated.
let smallBudget: Void = {
    do { try MemoryBudget.set("256M") } catch { fatalError("\(error)") }
}()

/// One input: the callback libFuzzer calls (under the name its runtime expects).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    _ = smallBudget
    selectedTarget.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}

/// libFuzzer's driver (in the runtime that `-sanitize=fuzzer` links).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
