/// A config that can check its own values before anything is built from it.
///
/// `validate()` throws one `ThunniniError` (via `ThunniniError.invalidConfig`)
/// for the first problem found, naming the snake_case JSON key at fault, e.g.
/// `invalid config field 'biases': sums to 0.9, not 1 (tolerance 1e-6)`.
public protocol ValidatableConfig {
    /// Throws a `ThunniniError` naming the first invalid field.
    func validate() throws
}

/// The small checks every config is built from; each throws for `field`.
enum ConfigCheck {
    /// Probabilities must sum to 1 within this tolerance.
    static let probabilityTolerance = 1e-6

    static func finite(_ value: Double, _ field: String) throws {
        guard value.isFinite else { throw ThunniniError.invalidConfig(field, "must be finite, got \(value)") }
    }

    static func positive(_ value: Double, _ field: String) throws {
        try finite(value, field)
        guard value > 0 else { throw ThunniniError.invalidConfig(field, "must be > 0, got \(value)") }
    }

    static func atLeast(_ minimum: Int, _ value: Int, _ field: String) throws {
        guard value >= minimum else { throw ThunniniError.invalidConfig(field, "must be >= \(minimum), got \(value)") }
    }

    static func count(_ actual: Int, _ field: String, equals expected: Int, _ expectedName: String) throws {
        guard actual == expected else {
            throw ThunniniError.invalidConfig(field, "has \(actual) entries but \(expectedName) is \(expected)")
        }
    }

    /// A probability vector: finite, non-negative entries summing to 1.
    static func distribution(_ values: [Double], _ field: String) throws {
        guard !values.isEmpty else { throw ThunniniError.invalidConfig(field, "must not be empty") }
        for (index, value) in values.enumerated() {
            try finite(value, "\(field)[\(index)]")
            guard value >= 0 else {
                throw ThunniniError.invalidConfig("\(field)[\(index)]", "probability must be >= 0, got \(value)")
            }
        }
        let sum = values.reduce(0, +)
        guard abs(sum - 1) <= probabilityTolerance else {
            throw ThunniniError.invalidConfig(field, "probabilities sum to \(sum), not 1 (tolerance 1e-6)")
        }
    }

    /// The `generator_type` / `torso_type` string stored in a case's struct.
    static func typeName(_ actual: String, _ field: String, expected: String) throws {
        guard actual == expected else {
            throw ThunniniError.invalidConfig(field, "is '\(actual)' but this config is a '\(expected)' config")
        }
    }
}
