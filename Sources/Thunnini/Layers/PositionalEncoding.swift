import Foundation

/// Sinusoidal positional encodings as the original computes them (its
/// `sinusoid_positional_encoding` with max timescale 1e4).
///
/// With width D: `freqs = 0, 2, 4, ...` up to and including D (that is
/// `D/2 + 1` values, integer division, for even and odd D alike),
/// `inv[k] = 10000^(-freqs[k] / D)`; row p of the full table is
/// `[sin(p inv[0]), ..., sin(p inv[n-1]), cos(p inv[0]), ..., cos(p inv[n-1])]`
/// (n = D/2 + 1, so 2n columns) and the table keeps its first D columns.
/// Hence there are n sine columns and only D - n cosine columns (for even D
/// the last sine column has frequency 10000^-1 and the two highest cosines are
/// cut). See Docs/layers.md, "Positional encoding".
public enum PositionalEncoding {
    /// The original's max timescale.
    public static let maxTimescale = 1e4

    /// The `[length, width]` table; position index from 0.
    public static func table(length: Int, width: Int) -> Tensor {
        precondition(length >= 0 && width >= 0, "positional table of length \(length), width \(width)")
        var table = Tensor.zeros([length, width])
        guard width > 0 else { return table }
        let frequencyCount = width / 2 + 1
        for position in 0..<length {
            for column in 0..<width {
                // Columns [0, n) are sines, [n, 2n) cosines of the same frequencies.
                let isSine = column < frequencyCount
                let k = isSine ? column : column - frequencyCount
                let exponent = -Double(2 * k) / Double(width)
                let angle = Double(position) * pow(maxTimescale, exponent)
                table.storage[position * width + column] = isSine ? sin(angle) : cos(angle)
            }
        }
        return table
    }

    /// Guards `lastTable`.
    private static let lock = NSLock()
    /// The table `forward` used last: evaluation and training ask for the
    /// same length and width pass after pass, and a table costs a pow, a
    /// sin or cos per element (a few percent of a forward pass of a small
    /// chunk of long sequences).
    nonisolated(unsafe) private static var lastTable: Tensor?

    /// `table(length:width:)`, computed once for repeated requests of the same shape.
    static func cachedTable(length: Int, width: Int) -> Tensor {
        lock.lock()
        defer { lock.unlock() }
        if let lastTable, lastTable.shape == [length, width] { return lastTable }
        let fresh = table(length: length, width: width)
        lastTable = fresh
        return fresh
    }

    /// `x + table` for `x` of shape `[B, L, D]` (the table broadcast over B).
    /// The backward pass is the identity: `dx = dy`.
    public static func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 3, "positional encoding expects [B, L, D], got \(x.shape)")
        let (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2])
        let encodings = cachedTable(length: length, width: width)
        var y = x
        for b in 0..<batch {
            for index in 0..<(length * width) {
                y.storage[b * length * width + index] += encodings.storage[index]
            }
        }
        return y
    }

    /// Vector-Jacobian product of `forward` (adding a constant): `dx = dy`.
    public static func backward(_ dy: Tensor) -> Tensor { dy }
}
