/// Dense layer with an optional low-rank adapter (the original's
/// `DenseWithLora`): `y = x W (+ b) + (x A) B (+ b_B)`.
///
/// A (`LoRA_in_<name>`, `in x r`) has no bias; B (`LoRA_out_<name>`,
/// `r x out`) has a bias exactly when the main layer has one. In the Flax
/// tree a layer named N is the module `N` holding `N/kernel` (+ `N/bias`),
/// `LoRA_in_N/kernel`, `LoRA_out_N/kernel` (+ `LoRA_out_N/bias`); e.g.
/// `MultiheadAttention_0/query/query/kernel`. See Docs/layers.md, "DenseWithLoRA".
public enum DenseWithLoRA {
    /// The parameters of one layer; also used for its gradients.
    public struct Parameters: Equatable, Sendable {
        /// W, `in x out`.
        public var kernel: Tensor
        /// b, `out`; nil without bias.
        public var bias: Tensor?
        /// A, `in x r`; nil without LoRA.
        public var loraInKernel: Tensor?
        /// B, `r x out`; nil without LoRA.
        public var loraOutKernel: Tensor?
        /// b_B, `out`; present only with LoRA and bias.
        public var loraOutBias: Tensor?

        /// Parameters from their parts. LoRA kernels come both or neither;
        /// `loraOutBias` only with LoRA and `bias`.
        public init(kernel: Tensor, bias: Tensor? = nil, loraInKernel: Tensor? = nil,
                    loraOutKernel: Tensor? = nil, loraOutBias: Tensor? = nil) {
            precondition((loraInKernel == nil) == (loraOutKernel == nil),
                         "DenseWithLoRA needs both LoRA kernels or neither")
            precondition(loraOutBias == nil || (loraInKernel != nil && bias != nil),
                         "DenseWithLoRA LoRA_out bias exists only with LoRA and a bias")
            self.kernel = kernel
            self.bias = bias
            self.loraInKernel = loraInKernel
            self.loraOutKernel = loraOutKernel
            self.loraOutBias = loraOutBias
        }

        /// Whether the adapter is present.
        public var usesLoRA: Bool { loraInKernel != nil }

        /// Zero tensors of the same shapes (a gradient accumulator).
        public var zeros: Parameters {
            Parameters(kernel: .zeros(like: kernel), bias: bias.map(Tensor.zeros(like:)),
                       loraInKernel: loraInKernel.map(Tensor.zeros(like:)),
                       loraOutKernel: loraOutKernel.map(Tensor.zeros(like:)),
                       loraOutBias: loraOutBias.map(Tensor.zeros(like:)))
        }
    }

    /// What the backward pass needs: the input and the adapter's hidden `x A`.
    public struct Cache: Sendable {
        /// The input x.
        public var input: Tensor
        /// `x A`, shape `[..., r]`; nil without LoRA.
        public var loraHidden: Tensor?
    }

    /// `y = x W (+ b) + (x A) B (+ b_B)` on the last axis of `x`: the
    /// fused fast kernel (`DenseWithLoRA+Fast.swift`), or the three Dense
    /// layers one after the other under `KernelMode.useReferenceKernels`.
    public static func forward(_ x: Tensor, parameters p: Parameters) -> (output: Tensor, cache: Cache) {
        KernelMode.useReferenceKernels ? forwardUnfused(x, parameters: p) : forwardFast(x, parameters: p)
    }

    /// The specification: the main layer, the adapter's two layers, and the
    /// sum `y += (x A) B (+ b_B)`, each over the whole tensor.
    public static func forwardUnfused(_ x: Tensor, parameters p: Parameters) -> (output: Tensor, cache: Cache) {
        var y = Dense.forward(x, kernel: p.kernel, bias: p.bias)
        guard let loraIn = p.loraInKernel, let loraOut = p.loraOutKernel else {
            return (y, Cache(input: x, loraHidden: nil))
        }
        let hidden = Dense.forward(x, kernel: loraIn, bias: nil)
        y += Dense.forward(hidden, kernel: loraOut, bias: p.loraOutBias)
        return (y, Cache(input: x, loraHidden: hidden))
    }

    /// Vector-Jacobian product: the main path as in `Dense`, the adapter by
    /// the chain rule through `h = x A`: `dB = h^T dy`, `db_B = sum dy`,
    /// `dh = dy B^T`, `dA = x^T dh`, and `dx = dy W^T + dh A^T`. The fused
    /// fast kernel, or `backwardUnfused` under `KernelMode.useReferenceKernels`.
    public static func backward(_ dy: Tensor, cache: Cache,
                                parameters p: Parameters) -> (input: Tensor, parameters: Parameters) {
        let all = backward(dy, cache: cache, parameters: p, parameterGradients: true)
        return (all.input, all.parameters!)
    }

    /// dL/dx alone: the same bits as `backward(...).input` (the same
    /// input-gradient products, added in the same order), without the
    /// weight-gradient products (for prefix tuning).
    public static func inputGradient(_ dy: Tensor, cache: Cache, parameters p: Parameters) -> Tensor {
        backward(dy, cache: cache, parameters: p, parameterGradients: false).input
    }

    /// `backward`, or with `parameterGradients: false` the input gradient
    /// alone (`parameters` is then nil); the input gradient is the same bits
    /// either way.
    public static func backward(_ dy: Tensor, cache: Cache, parameters p: Parameters,
                                parameterGradients: Bool) -> (input: Tensor, parameters: Parameters?) {
        KernelMode.useReferenceKernels
            ? backwardUnfused(dy, cache: cache, parameters: p, parameterGradients: parameterGradients)
            : backwardFast(dy, cache: cache, parameters: p, parameterGradients: parameterGradients)
    }

    /// The specification of `backward`: three Dense backward passes and the
    /// sum of the two input gradients, each over the whole tensor.
    public static func backwardUnfused(_ dy: Tensor, cache: Cache, parameters p: Parameters,
                                       parameterGradients: Bool = true) -> (input: Tensor, parameters: Parameters?) {
        let main = Dense.backward(dy, x: cache.input, kernel: p.kernel, hasBias: p.bias != nil,
                                  parameterGradients: parameterGradients)
        guard let loraIn = p.loraInKernel, let loraOut = p.loraOutKernel, let hidden = cache.loraHidden else {
            return (main.input, main.all.map { Parameters(kernel: $0.kernel, bias: $0.bias) })
        }
        let outer = Dense.backward(dy, x: hidden, kernel: loraOut, hasBias: p.loraOutBias != nil,
                                   parameterGradients: parameterGradients)
        let inner = Dense.backward(outer.input, x: cache.input, kernel: loraIn, hasBias: false,
                                   parameterGradients: parameterGradients)
        var gradients: Parameters?
        if let main = main.all, let outer = outer.all, let inner = inner.all {
            gradients = Parameters(kernel: main.kernel, bias: main.bias, loraInKernel: inner.kernel,
                                   loraOutKernel: outer.kernel, loraOutBias: outer.bias)
        }
        return (main.input + inner.input, gradients)
    }
}
