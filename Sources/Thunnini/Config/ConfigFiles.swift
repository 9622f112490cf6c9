import Foundation

/// Reads a config file from disk: `decodeConfig` with a clear error when the
/// file cannot be read.
public func loadConfig<T: Decodable & ValidatableConfig>(_ type: T.Type, path: String) throws -> T {
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw ThunniniError("\(path): cannot read the file")
    }
    return try decodeConfig(type, from: data, source: path)
}
