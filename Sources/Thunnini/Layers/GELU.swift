import Foundation

/// GELU activation, tanh approximation (Flax's `nn.gelu` default):
/// `y = 0.5 x (1 + tanh(u))`, `u = sqrt(2/pi) (x + 0.044715 x^3)`.
/// See Docs/layers.md, "GELU".
public enum GELU {
    /// sqrt(2 / pi).
    static let sqrtTwoOverPi = (2.0 / Double.pi).squareRoot()
    /// Coefficient of the cubic term.
    static let cubicCoefficient = 0.044715

    /// Element-wise GELU: the scalar reference kernel (`forwardFast` is its
    /// bit-identical twin).
    public static func forwardReference(_ x: Tensor) -> Tensor {
        var y = x
        for index in 0..<x.count {
            let v = x.storage[index]
            let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
            y.storage[index] = 0.5 * v * (1 + Elementary.tanh(u))
        }
        return y
    }

    /// Vector-Jacobian product: `dx = dy * (0.5 (1 + t) + 0.5 x (1 - t^2) du/dx)`
    /// with `t = tanh(u)` and `du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2)`.
    /// The scalar reference kernel (`backwardFast` is its bit-identical twin).
    public static func backwardReference(_ dy: Tensor, x: Tensor) -> Tensor {
        precondition(dy.shape == x.shape, "GELU upstream gradient \(dy.shape) != input \(x.shape)")
        var dx = x
        for index in 0..<x.count {
            let v = x.storage[index]
            let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
            let t = Elementary.tanh(u)
            let duDx = sqrtTwoOverPi * (1 + 3 * cubicCoefficient * v * v)
            let derivative = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * duDx
            dx.storage[index] = dy.storage[index] * derivative
        }
        return dx
    }

    /// `forwardFast`, or `forwardReference` under `KernelMode.useReferenceKernels`.
    public static func forward(_ x: Tensor) -> Tensor {
        KernelMode.useReferenceKernels ? forwardReference(x) : forwardFast(x)
    }

    /// `backwardFast`, or `backwardReference` under `KernelMode.useReferenceKernels`.
    public static func backward(_ dy: Tensor, x: Tensor) -> Tensor {
        KernelMode.useReferenceKernels ? backwardReference(dy, x: x) : backwardFast(dy, x: x)
    }

    /// Fast twin of `forwardReference`: sixteen elements at a time (the width
    /// of `Elementary`) with the same expression, the rest one by one (the
    /// same bits); chunks of elements run on separate threads.
    public static func forwardFast(_ x: Tensor) -> Tensor {
        let count = x.count
        // Every element is written below (no copy of x first).
        let y = Tensor(shape: x.shape) { yShared in x.withPointer { xP in
            let out = SharedPointer(yShared)
            // Elements are independent: chunks of whole SIMD groups across threads.
            Parallel.forEachChunk(of: (count + 15) / 16, minimumPerChunk: 1024) { groups in
            let yP = out.base
            var index = groups.lowerBound * 16
            let end = min(count, groups.upperBound * 16)
            while index + 16 <= end {
                let v = UnsafeRawPointer(xP + index).loadUnaligned(as: Elementary.Vector.self)
                let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
                let value = 0.5 * v * (1 + Elementary.tanh(u))
                UnsafeMutableRawPointer(yP + index).storeBytes(of: value, as: Elementary.Vector.self)
                index += 16
            }
            while index < end {
                let v = xP[index]
                let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
                yP[index] = 0.5 * v * (1 + Elementary.tanh(u))
                index += 1
            }
            }
        }}
        return y
    }

    /// Fast twin of `backwardReference` (same operations, sixteen at a time).
    public static func backwardFast(_ dy: Tensor, x: Tensor) -> Tensor {
        precondition(dy.shape == x.shape, "GELU upstream gradient \(dy.shape) != input \(x.shape)")
        let count = x.count
        let dx = Tensor(shape: x.shape) { dxShared in x.withPointer { xP in dy.withPointer { dyP in
            let out = SharedPointer(dxShared)
            Parallel.forEachChunk(of: (count + 15) / 16, minimumPerChunk: 1024) { groups in
            let dxP = out.base
            var index = groups.lowerBound * 16
            let end = min(count, groups.upperBound * 16)
            while index + 16 <= end {
                let v = UnsafeRawPointer(xP + index).loadUnaligned(as: Elementary.Vector.self)
                let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
                let t = Elementary.tanh(u)
                let duDx = sqrtTwoOverPi * (1 + 3 * cubicCoefficient * v * v)
                let derivative = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * duDx
                let upstream = UnsafeRawPointer(dyP + index).loadUnaligned(as: Elementary.Vector.self)
                UnsafeMutableRawPointer(dxP + index).storeBytes(of: upstream * derivative, as: Elementary.Vector.self)
                index += 16
            }
            while index < end {
                let v = xP[index]
                let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
                let t = Elementary.tanh(u)
                let duDx = sqrtTwoOverPi * (1 + 3 * cubicCoefficient * v * v)
                let derivative = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * duDx
                dxP[index] = dyP[index] * derivative
                index += 1
            }
            }
        }}}
        return dx
    }
}
