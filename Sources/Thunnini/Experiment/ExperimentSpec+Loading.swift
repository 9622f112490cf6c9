import Foundation

extension ExperimentSpec {
    /// Reads, decodes and validates an experiment file.
    ///
    /// Every failure is one line starting with the file's path: an unreadable
    /// file (`exp.json: cannot read (...)`), malformed JSON
    /// (`exp.json: not valid JSON (...)`), a missing or mistyped key with its
    /// key path (`exp.json: missing key 'tuning_configs[0].config.learning_rate'`),
    /// or the first validation problem.
    public static func load(from url: URL) throws -> ExperimentSpec {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ThunniniError("\(url.path): cannot read (\(readFailureReason(url, error)))")
        }
        return try decode(from: data, source: url.path)
    }

    /// Decodes and validates an experiment from JSON; `source` names it in errors.
    public static func decode(from data: Data, source: String) throws -> ExperimentSpec {
        try decodeConfig(ExperimentSpec.self, from: data, source: source)
    }

    /// A short reason for a failed read, preferring the operating system's words.
    private static func readFailureReason(_ url: URL, _ error: Error) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            return "no such file"
        }
        if isDirectory.boolValue { return "is a directory" }
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        return nsError.localizedDescription
    }
}
