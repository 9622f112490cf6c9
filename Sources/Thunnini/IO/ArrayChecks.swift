/// Checks on arrays read from files, made when they are loaded so that a bad
/// value is reported by array name and index instead of turning into NaN
/// results (or negative losses) far downstream.
public enum ArrayChecks {
    /// The multi-index `[i, j, k]` of flat index `flat` in `shape`.
    static func index(_ flat: Int, in shape: [Int]) -> String {
        var rest = flat
        var parts = [Int](repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            parts[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return "[" + parts.map(String.init).joined(separator: ", ") + "]"
    }

    /// Throws `source: array 'name' has the non-finite value nan at [i, j]` for the first NaN or infinity.
    public static func finite(_ array: Tensor, name: String, source: String) throws {
        if let bad = array.storage.firstIndex(where: { !$0.isFinite }) {
            throw ThunniniError("\(source): array '\(name)' has the non-finite value \(array.storage[bad]) at \(index(bad, in: array.shape))")
        }
    }

    /// Sequences must be B x T x V one-hot: every entry 0 or 1, exactly one 1
    /// per token. (Other values would give negative or meaningless losses.)
    public static func oneHotSequences(_ array: Tensor, name: String, source: String, vocabSize: Int? = nil) throws {
        try finite(array, name: name, source: source)
        guard array.rank == 3 else {
            throw ThunniniError("\(source): array '\(name)' has shape \(array.shape), expected B x T x V")
        }
        if let vocabSize, array.shape[2] != vocabSize {
            throw ThunniniError("\(source): array '\(name)' has shape \(array.shape), expected B x T x \(vocabSize)")
        }
        let v = array.shape[2]
        guard v >= 1 else { throw ThunniniError("\(source): array '\(name)' has an empty vocabulary axis") }
        for row in 0..<(array.count / v) {
            var ones = 0
            for k in 0..<v {
                let x = array.storage[row * v + k]
                guard x == 0 || x == 1 else {
                    throw ThunniniError("\(source): array '\(name)' is not one-hot: \(x) at \(index(row * v + k, in: array.shape))")
                }
                if x == 1 { ones += 1 }
            }
            guard ones == 1 else {
                let t = array.shape[1]
                throw ThunniniError("\(source): array '\(name)' is not one-hot: \(ones) ones at token [\(row / t), \(row % t)]")
            }
        }
    }
}
