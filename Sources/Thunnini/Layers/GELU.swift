import Foundation

/// GELU activation, tanh approximation (Flax's `nn.gelu` default):
/// `y = 0.5 x (1 + tanh(u))`, `u = sqrt(2/pi) (x + 0.044715 x^3)`.
/// See Docs/layers.md, "GELU".
public enum GELU {
    /// sqrt(2 / pi).
    static let sqrtTwoOverPi = (2.0 / Double.pi).squareRoot()
    /// Coefficient of the cubic term.
    static let cubicCoefficient = 0.044715

    /// Element-wise GELU.
    public static func forward(_ x: Tensor) -> Tensor {
        var y = x
        for index in 0..<x.count {
            let v = x.storage[index]
            let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
            y.storage[index] = 0.5 * v * (1 + tanh(u))
        }
        return y
    }

    /// Vector-Jacobian product: `dx = dy * (0.5 (1 + t) + 0.5 x (1 - t^2) du/dx)`
    /// with `t = tanh(u)` and `du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2)`.
    public static func backward(_ dy: Tensor, x: Tensor) -> Tensor {
        precondition(dy.shape == x.shape, "GELU upstream gradient \(dy.shape) != input \(x.shape)")
        var dx = x
        for index in 0..<x.count {
            let v = x.storage[index]
            let u = sqrtTwoOverPi * (v + cubicCoefficient * v * v * v)
            let t = tanh(u)
            let duDx = sqrtTwoOverPi * (1 + 3 * cubicCoefficient * v * v)
            let derivative = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * duDx
            dx.storage[index] = dy.storage[index] * derivative
        }
        return dx
    }
}
