import Foundation

/// Reads a config file from disk: `decodeConfig` with a clear error when the
/// file cannot be read.
public func loadConfig<T: Decodable & ValidatableConfig>(_ type: T.Type, path: String) throws -> T {
    try decodeConfig(type, from: readConfigFile(path), source: path)
}

/// Reads and decodes a JSON file without validating it, for callers that
/// check only part of a config (e.g. `exact` ignores `batch_size`); errors
/// are one line naming the file and the key path.
public func loadJSON<T: Decodable>(_ type: T.Type, path: String) throws -> T {
    try decodeJSON(type, from: readConfigFile(path), source: path)
}

func readConfigFile(_ path: String) throws -> Data {
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw ThunniniError("\(path): cannot read the file")
    }
}
