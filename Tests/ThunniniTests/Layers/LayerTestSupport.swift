import Foundation
@testable import Thunnini

/// A small deterministic generator (SplitMix64) local to the layer tests, so
/// they do not depend on the project's PRNG.
struct LayerTestGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// Next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Standard normal (Box-Muller).
    mutating func normal() -> Double {
        let u1 = 1 - uniform()
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A tensor of independent N(0, scale^2) entries.
    mutating func tensor(_ shape: [Int], scale: Double = 1) -> Tensor {
        var t = Tensor.zeros(shape)
        for index in 0..<t.count { t.storage[index] = scale * normal() }
        return t
    }

    /// Random DenseWithLoRA parameters (`in x out`, rank `rank`).
    mutating func denseWithLoRA(in inFeatures: Int, out outFeatures: Int, useBias: Bool,
                                loraRank: Int?) -> DenseWithLoRA.Parameters {
        let scale = 1 / Double(inFeatures).squareRoot()
        let kernel = tensor([inFeatures, outFeatures], scale: scale)
        let bias = useBias ? tensor([outFeatures], scale: 0.5) : nil
        guard let rank = loraRank else { return DenseWithLoRA.Parameters(kernel: kernel, bias: bias) }
        return DenseWithLoRA.Parameters(kernel: kernel, bias: bias,
                                        loraInKernel: tensor([inFeatures, rank], scale: scale),
                                        loraOutKernel: tensor([rank, outFeatures], scale: 0.5),
                                        loraOutBias: useBias ? tensor([outFeatures], scale: 0.5) : nil)
    }
}

/// Named flattening of DenseWithLoRA parameters, for the gradient check.
extension DenseWithLoRA.Parameters {
    /// `(prefix/name, tensor)` for every present parameter, in a fixed order.
    func named(_ prefix: String) -> [(String, Tensor)] {
        var list: [(String, Tensor)] = [("\(prefix)/kernel", kernel)]
        if let bias { list.append(("\(prefix)/bias", bias)) }
        if let loraInKernel { list.append(("\(prefix)/LoRA_in/kernel", loraInKernel)) }
        if let loraOutKernel { list.append(("\(prefix)/LoRA_out/kernel", loraOutKernel)) }
        if let loraOutBias { list.append(("\(prefix)/LoRA_out/bias", loraOutBias)) }
        return list
    }

    /// The inverse of `named`: parameters rebuilt from a dictionary.
    static func from(_ values: [String: Tensor], prefix: String) -> DenseWithLoRA.Parameters {
        DenseWithLoRA.Parameters(kernel: values["\(prefix)/kernel"]!, bias: values["\(prefix)/bias"],
                                 loraInKernel: values["\(prefix)/LoRA_in/kernel"],
                                 loraOutKernel: values["\(prefix)/LoRA_out/kernel"],
                                 loraOutBias: values["\(prefix)/LoRA_out/bias"])
    }
}
