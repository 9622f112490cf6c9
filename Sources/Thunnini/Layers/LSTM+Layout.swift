/// Where the rows of a layer's sequence tensors lie, and the dispatchers that
/// let the reference kernels (batch-major only) serve either layout.
///
/// Why a second layout: the fast time loops visit the rows of one step for a
/// chunk of sequences. Batch-major, those rows lie `L w` doubles apart (25 KB
/// for the demo's H = 64), so every row is a fresh page that the hardware
/// prefetcher has not seen; time-major, they are one contiguous run it
/// streams. `LSTMTorso` keeps the tensors between its layers time-major and
/// its own input and output batch-major. A layout moves rows, never values:
/// every element is computed by the same operations either way.
extension LSTM {
    /// The order of the `(b, t)` rows of a sequence tensor (x, h, their gradients).
    public enum SequenceLayout: Sendable, Equatable {
        /// `[B, L, w]`, row `b L + t`: the layer's public layout, and the
        /// reference kernels' only one.
        case batchMajor
        /// `[L, B, w]`, row `t B + b`: one step's rows are contiguous.
        case timeMajor

        /// The row of sequence b at step t.
        @inline(__always)
        func row(_ b: Int, _ t: Int, batch: Int, length: Int) -> Int {
            self == .batchMajor ? b * length + t : t * batch + b
        }

        /// Rows from (b, t) to (b + 1, t).
        @inline(__always)
        func sequenceStride(length: Int) -> Int { self == .batchMajor ? length : 1 }

        /// The shape of a tensor of `width` values per (b, t).
        func shape(batch: Int, length: Int, width: Int) -> [Int] {
            self == .batchMajor ? [batch, length, width] : [length, batch, width]
        }

        /// `(B, L, w)` of a rank-3 tensor in this layout.
        func dimensions(of tensor: Tensor) -> (batch: Int, length: Int, width: Int) {
            precondition(tensor.rank == 3, "LSTM expects a rank-3 sequence tensor, got \(tensor.shape)")
            let (first, second, width) = (tensor.shape[0], tensor.shape[1], tensor.shape[2])
            return self == .batchMajor ? (first, second, width) : (second, first, width)
        }
    }

    /// `tensor` (in layout `source`) with its rows in layout `target`: a copy
    /// of every row, or `tensor` itself when the layouts agree.
    public static func rearranged(_ tensor: Tensor, from source: SequenceLayout, to target: SequenceLayout) -> Tensor {
        guard source != target else { return tensor }
        let (batch, length, width) = source.dimensions(of: tensor)
        return Tensor(shape: target.shape(batch: batch, length: length, width: width), writingEveryElement: { out in
            tensor.withPointer { from in
                for b in 0..<batch {
                    for t in 0..<length {
                        (out + target.row(b, t, batch: batch, length: length) * width)
                            .update(from: from + source.row(b, t, batch: batch, length: length) * width, count: width)
                    }
                }
            }
        })
    }

    /// The same cache with its input and hiddens batch-major (what the
    /// reference backward pass reads).
    static func batchMajor(_ cache: Cache) -> Cache {
        var copy = cache
        copy.input = rearranged(cache.input, from: cache.inputLayout, to: .batchMajor)
        copy.hiddens = rearranged(cache.hiddens, from: cache.outputLayout, to: .batchMajor)
        (copy.inputLayout, copy.outputLayout) = (.batchMajor, .batchMajor)
        return copy
    }

    /// The reference forward pass for x in `inputLayout`, h and the cache in
    /// the given layouts (rearranged copies of the reference's batch-major
    /// results: the same bits).
    static func forwardReference(_ x: Tensor, parameters p: Parameters, inputLayout: SequenceLayout,
                                 outputLayout: SequenceLayout) -> (hiddens: Tensor, cache: Cache) {
        var (hiddens, cache) = forwardReference(rearranged(x, from: inputLayout, to: .batchMajor), parameters: p)
        hiddens = rearranged(hiddens, from: .batchMajor, to: outputLayout)
        (cache.input, cache.hiddens) = (x, hiddens)
        (cache.inputLayout, cache.outputLayout) = (inputLayout, outputLayout)
        return (hiddens, cache)
    }

    /// The reference backward pass for a cache in any layouts: `dHiddens` and
    /// `dCells` in the cache's output layout, dL/dx in its input layout.
    static func backwardReferenceInCacheLayouts(dHiddens: Tensor, dCells: Tensor?, cache: Cache,
                                                parameters p: Parameters) -> (input: Tensor, parameters: Parameters) {
        let output = cache.outputLayout
        let result = backwardReference(dHiddens: rearranged(dHiddens, from: output, to: .batchMajor),
                                       dCells: dCells.map { rearranged($0, from: output, to: .batchMajor) },
                                       cache: batchMajor(cache), parameters: p)
        return (rearranged(result.input, from: .batchMajor, to: cache.inputLayout), result.parameters)
    }
}
