import Foundation

/// One difference between a golden case's output and its file.
public struct GoldenMismatch: CustomStringConvertible, Equatable, Sendable {
    public var caseName: String
    /// The array at fault, or nil for a problem with the whole file.
    public var arrayName: String?
    public var problem: String

    public var description: String {
        if let arrayName { return "\(caseName): \(arrayName): \(problem)" }
        return "\(caseName): \(problem)"
    }
}

/// The text form of golden outputs and the write / compare operations.
///
/// A file `<case>.golden.txt` holds `#` comment lines, then one block per
/// array, blocks separated by a blank line: a header line `name shape=[2,3]`
/// and the values in row-major order, one per line, in Swift's shortest
/// round-trip decimal form (reading them back gives the identical Double;
/// `nan`, `inf`, `-inf` for non-finite values).
///
/// Comparison allows `|actual - golden| <= 1e-14 + 1e-12 * |golden|`: tight
/// enough that any real change fails, loose enough for the last-ulp
/// differences between libm implementations (exp, log, tanh) on other machines.
public enum GoldenFile {
    /// The tolerance of `compare`: relative 1e-12 plus absolute 1e-14.
    public static let tolerance = Tolerance(atol: 1e-14, rtol: 1e-12)

    /// The file of `goldenCase` in `directory`.
    public static func url(for goldenCase: GoldenCase, in directory: URL) -> URL {
        directory.appendingPathComponent("\(goldenCase.name).golden.txt")
    }

    /// Runs the case and writes its file (atomically), creating `directory` if needed.
    public static func write(_ goldenCase: GoldenCase, to directory: URL) throws {
        let text = try render(caseName: goldenCase.name, arrays: try goldenCase.produce())
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ThunniniError("\(directory.path): cannot create the golden directory (\(error.localizedDescription))")
        }
        try writeAtomically(Data(text.utf8), to: url(for: goldenCase, in: directory))
    }

    /// Runs the case and lists every difference from its file (empty if it matches).
    public static func compare(_ goldenCase: GoldenCase, against directory: URL,
                               tolerance: Tolerance = GoldenFile.tolerance) throws -> [GoldenMismatch] {
        let file = url(for: goldenCase, in: directory)
        func mismatch(_ array: String?, _ problem: String) -> GoldenMismatch {
            GoldenMismatch(caseName: goldenCase.name, arrayName: array, problem: problem)
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            return [mismatch(nil, "no golden file \(file.path) (run `thunnini-ref golden --update`)")]
        }
        let golden = try parse(String(decoding: data, as: UTF8.self), source: file.path)
        let produced = try goldenCase.produce()
        var mismatches: [GoldenMismatch] = []
        let goldenByName = Dictionary(golden.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
        let producedNames = Set(produced.map(\.0))
        for (name, actual) in produced {
            guard let expected = goldenByName[name] else {
                mismatches.append(mismatch(name, "not in the golden file"))
                continue
            }
            let comparison = ArrayComparison.compare(name: name, actual: actual, expected: expected, tolerance: tolerance)
            guard !comparison.passed else { continue }
            if let note = comparison.note {
                mismatches.append(mismatch(name, note))
            } else {
                let flat = comparison.worstIndex.isEmpty ? 0 : expected.offset(comparison.worstIndex)
                mismatches.append(mismatch(name,
                    "differs at \(comparison.worstIndex): got \(actual.storage[flat]), golden \(expected.storage[flat]) "
                    + "(max abs error \(comparison.maxAbsError), max rel error \(comparison.maxRelError))"))
            }
        }
        for (name, _) in golden where !producedNames.contains(name) {
            mismatches.append(mismatch(name, "in the golden file but no longer produced"))
        }
        return mismatches
    }

    /// Golden files in `directory` that belong to none of `cases`.
    public static func orphanedFiles(in directory: URL, cases: [GoldenCase]) -> [URL] {
        let names = Set(cases.map { "\($0.name).golden.txt" })
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".golden.txt") && !names.contains($0) }.sorted()
            .map { directory.appendingPathComponent($0) }
    }

    /// The text of a golden file.
    public static func render(caseName: String, arrays: [(String, Tensor)]) throws -> String {
        try checkName(caseName, what: "golden case name")
        var seen = Set<String>()
        var text = """
            # thunnini-ref golden output of case '\(caseName)'; regenerate with `thunnini-ref golden --update`.
            # Blocks: `name shape=[...]`, then the values in row-major order, one per line
            # (shortest round-trip decimal). Compared with |actual - golden| <= 1e-14 + 1e-12 * |golden|.

            """
        for (name, tensor) in arrays {
            try checkName(name, what: "array name")
            guard seen.insert(name).inserted else {
                throw ThunniniError("golden case '\(caseName)': array '\(name)' is produced twice")
            }
            text += "\n\(name) shape=[\(tensor.shape.map(String.init).joined(separator: ","))]\n"
            for value in tensor.storage {
                text += "\(value)\n"
            }
        }
        return text
    }

    /// The arrays of a golden file's text, in file order; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws -> [(String, Tensor)] {
        var arrays: [(String, Tensor)] = []
        var current: (name: String, shape: [Int], values: [Double], line: Int)?
        func finish() throws {
            guard let block = current else { return }
            let expected = try checkedProduct(block.shape, "\(source):\(block.line): array '\(block.name)' shape \(block.shape)")
            guard block.values.count == expected else {
                throw ThunniniError("\(source):\(block.line): array '\(block.name)' has \(block.values.count) values, shape \(block.shape) needs \(expected)")
            }
            arrays.append((block.name, Tensor(shape: block.shape, storage: block.values)))
            current = nil
        }
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            let lineNumber = offset + 1
            if line.hasPrefix("#") { continue }
            if line.isEmpty {
                try finish()
                continue
            }
            if current == nil {
                current = try parseHeader(line, source: "\(source):\(lineNumber)")
                current?.line = lineNumber
                continue
            }
            guard let value = Double(line) else {
                throw ThunniniError("\(source):\(lineNumber): '\(line)' is not a number")
            }
            current!.values.append(value)
        }
        try finish()
        return arrays
    }

    /// `name shape=[2,3]` -> the name and shape.
    private static func parseHeader(_ line: String, source: String) throws -> (name: String, shape: [Int], values: [Double], line: Int) {
        let parts = line.split(separator: " ")
        guard parts.count == 2, parts[1].hasPrefix("shape=["), parts[1].hasSuffix("]") else {
            throw ThunniniError("\(source): expected an array header `name shape=[...]`, got '\(line)'")
        }
        let inner = parts[1].dropFirst("shape=[".count).dropLast()
        var shape: [Int] = []
        if !inner.isEmpty {
            for piece in inner.split(separator: ",", omittingEmptySubsequences: false) {
                guard let extent = Int(piece.trimmingCharacters(in: .whitespaces)), extent >= 0 else {
                    throw ThunniniError("\(source): bad shape in '\(line)'")
                }
                shape.append(extent)
            }
        }
        return (String(parts[0]), shape, [], 0)
    }

    /// Names go into file names and header lines: no whitespace, no path tricks.
    private static func checkName(_ name: String, what: String) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_-./"))
        guard !name.isEmpty, !name.hasPrefix("#"), name.unicodeScalars.allSatisfy(allowed.contains),
              !(what == "golden case name" && name.contains("/")) else {
            throw ThunniniError("invalid \(what) '\(name)' (use letters, digits, _ - . and, in array names, /)")
        }
    }
}
