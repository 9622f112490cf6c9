import Foundation

/// The one JSON format of every result file: deterministic bytes for equal
/// values, so two runs can be compared with `cmp` and a re-encoded file is
/// byte-identical to the original.
///
/// - keys sorted, two-space pretty printing, `/` not escaped, one trailing newline;
/// - doubles in the shortest decimal that reads back to the same bits
///   (Swift's `description` algorithm, which Foundation's encoder uses on
///   Linux and macOS; e.g. `0.1`, `0.30000000000000004`, `1e-300`);
///   integral doubles print without a fraction (`100`), which decodes back
///   to the same `Double`;
/// - non-finite doubles, which JSON has no numbers for, as the strings
///   `"NaN"`, `"Infinity"` and `"-Infinity"` (decoded back by `decoder`).
public enum JSONOutput {
    /// The encoder with the format above.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    /// A decoder that reads back what `makeEncoder()` writes.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }

    /// `value` as deterministic JSON bytes ending in a newline.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        do {
            var data = try makeEncoder().encode(value)
            data.append(0x0A)
            return data
        } catch let error as EncodingError {
            throw ThunniniError("cannot encode JSON: \(describe(error))")
        }
    }

    /// Decodes what `encode` wrote; `source` names the data in errors.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, source: String) throws -> T {
        try checkUTF8(data, source: source)
        do {
            return try makeDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw ThunniniError("\(source): \(Thunnini.describe(error))")
        } catch let error as ThunniniError {
            throw ThunniniError("\(source): \(error.message)")
        }
    }

    private static func describe(_ error: EncodingError) -> String {
        switch error {
        case .invalidValue(let value, let context):
            let path = keyPath(context.codingPath)
            return "\(path.isEmpty ? "value" : "'\(path)'") \(value) cannot be written (\(context.debugDescription))"
        @unknown default:
            return "\(error)"
        }
    }
}
