import Foundation

/// Decodes a config from JSON and validates it.
///
/// Decoding failures become one line naming `source` and the key path, e.g.
/// `PRIOR.json: missing key 'alphas'` or `run.json: 'batch_size' must be an
/// integer`; validation failures are prefixed with `source` the same way.
public func decodeConfig<T: Decodable & ValidatableConfig>(_ type: T.Type, from data: Data, source: String) throws -> T {
    let config = try decodeJSON(type, from: data, source: source)
    do {
        try config.validate()
    } catch let error as ThunniniError {
        throw ThunniniError("\(source): \(error.message)")
    }
    return config
}

/// Decodes JSON, turning any `DecodingError` into a one-line `ThunniniError`.
/// Bytes that are not UTF-8 and a key repeated within one object are refused
/// (`StrictJSON`), naming where.
func decodeJSON<T: Decodable>(_ type: T.Type, from data: Data, source: String) throws -> T {
    try checkUTF8(data, source: source)
    if let duplicate = StrictJSON.firstDuplicateKey(in: data) {
        throw ThunniniError("\(source): duplicate key '\(duplicate)'")
    }
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch let error as DecodingError {
        throw ThunniniError("\(source): \(describe(error))")
    } catch let error as ThunniniError {
        throw ThunniniError("\(source): \(error.message)")
    }
}

/// `a.b[2].c` for a coding path.
func keyPath(_ path: [CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return text
}

/// The JSON word for a Swift type expected by the decoder.
private func jsonKind(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is Int32.Type, is Int64.Type, is UInt.Type: "an integer"
    case is Double.Type, is Float.Type: "a number"
    case is String.Type: "a string"
    case is Bool.Type: "a boolean (true or false)"
    default:
        String(describing: type).hasPrefix("Array") ? "a list"
            : String(describing: type).hasPrefix("Dictionary") ? "an object" : "a \(type)"
    }
}

/// One line describing a `DecodingError` by key path.
func describe(_ error: DecodingError) -> String {
    switch error {
    case .keyNotFound(let key, let context):
        return "missing key '\(keyPath(context.codingPath + [key]))'"
    case .typeMismatch(let type, let context):
        let path = keyPath(context.codingPath)
        return path.isEmpty ? "the document must be \(jsonKind(type))" : "'\(path)' must be \(jsonKind(type))"
    case .valueNotFound(let type, let context):
        return "'\(keyPath(context.codingPath))' must be \(jsonKind(type)), not null"
    case .dataCorrupted(let context):
        let path = keyPath(context.codingPath)
        if path.isEmpty {
            let underlying = (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
            return "not valid JSON (\(underlying))"
        }
        return "'\(path)' is invalid: \(context.debugDescription)"
    @unknown default:
        return "cannot decode (\(error))"
    }
}

/// Refuses JSON text that is not UTF-8, naming the byte offset and line.
func checkUTF8(_ data: Data, source: String) throws {
    if let place = StrictJSON.firstInvalidUTF8(in: data) {
        throw ThunniniError("\(source): not UTF-8 text (an invalid byte sequence at \(place)); JSON files must be UTF-8")
    }
}
