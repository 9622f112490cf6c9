/// The one error type of the engine: a single human-readable line that names
/// the problem (and, for configs and files, the field or path at fault).
///
/// The command line prints `description` on stderr and exits non-zero, so the
/// message must make sense on its own.
public struct ThunniniError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, in one line.
    public let message: String

    /// An error with a one-line message.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// A config value that fails validation: `field` is the snake_case key.
    public static func invalidConfig(_ field: String, _ problem: String) -> ThunniniError {
        ThunniniError("invalid config field '\(field)': \(problem)")
    }
}
