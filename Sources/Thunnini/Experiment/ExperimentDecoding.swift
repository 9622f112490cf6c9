import Foundation

/// Decoding helpers of the experiment file: key-path-scoped errors and the
/// unknown-key check.

extension ThunniniError {
    /// The same error located under `path`: a config-field error names
    /// `path.field` (`invalid config field 'tuning_configs[0].config.learning_rate': ...`),
    /// any other message is prefixed with `path: `. An empty path changes nothing.
    func scoped(_ path: String) -> ThunniniError {
        guard !path.isEmpty else { return self }
        let marker = "invalid config field '"
        if message.hasPrefix(marker) {
            return ThunniniError(marker + path + "." + message.dropFirst(marker.count))
        }
        return ThunniniError("\(path): \(message)")
    }
}

/// A coding key for any string, to list the keys an object actually has.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

/// Throws for the first key of the object being decoded that is not in
/// `allowed`, naming its key path and the keys that are allowed.
func rejectUnknownKeys(in decoder: Decoder, allowed: [String]) throws {
    let container = try decoder.container(keyedBy: AnyCodingKey.self)
    let allowedSet = Set(allowed)
    for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) where !allowedSet.contains(key.stringValue) {
        throw ThunniniError.invalidConfig(keyPath(decoder.codingPath + [key]),
            "unknown key; expected one of \(allowed.joined(separator: ", "))")
    }
}

/// Decodes `key`, locating a `ThunniniError` thrown by the nested config's
/// own decoder (e.g. an unknown `torso_type`) at `key`'s path.
func decodeScoped<T: Decodable, K: CodingKey>(_ type: T.Type, _ container: KeyedDecodingContainer<K>, _ key: K) throws -> T {
    do {
        return try container.decode(T.self, forKey: key)
    } catch let error as ThunniniError {
        throw error.scopedIfUnscoped(keyPath(container.codingPath + [key]))
    }
}

/// `decodeScoped` for an optional key.
func decodeScopedIfPresent<T: Decodable, K: CodingKey>(_ type: T.Type, _ container: KeyedDecodingContainer<K>, _ key: K) throws -> T? {
    do {
        return try container.decodeIfPresent(T.self, forKey: key)
    } catch let error as ThunniniError {
        throw error.scopedIfUnscoped(keyPath(container.codingPath + [key]))
    }
}

extension ThunniniError {
    /// Errors thrown by our own decoders already carry their full key path
    /// (they start with it); only the others need `path` prepended.
    func scopedIfUnscoped(_ path: String) -> ThunniniError {
        let marker = "invalid config field '"
        if message.hasPrefix(marker + path) || message.hasPrefix(path) { return self }
        return scoped(path)
    }
}
