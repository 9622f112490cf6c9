import Foundation

/// The one check `JSONDecoder` does not make: a key that appears twice in the
/// same object. `JSONDecoder` keeps one of the two values silently (and
/// Python's `json` keeps the last), so `{"batch_size": 8, "batch_size": -1}`
/// would mean different things to different readers; every config,
/// experiment and bundle reader refuses it instead (`decodeJSON`).
///
/// The scan is iterative (no recursion, so nesting depth cannot exhaust the
/// stack) and tolerant: on malformed JSON it stops without a verdict and
/// leaves the syntax error to `JSONDecoder`. Keys are compared after
/// unescaping, so `"a"` and `"\u0061"` are the same key.
enum StrictJSON {
    /// Where the first byte sequence that is not UTF-8 starts (`byte 42, line
    /// 3`), or nil when all of `data` is UTF-8. JSON text must be UTF-8, but
    /// `JSONDecoder` replaces a malformed sequence inside a string with U+FFFD
    /// and carries on, so a name or notes with stray bytes would be accepted
    /// and written back changed.
    static func firstInvalidUTF8(in data: Data) -> String? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = data.makeIterator()
        var offset = 0, line = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == UInt8(ascii: "\n") { line += 1 }
                offset += encoded.count
            case .error:
                return "byte \(offset), line \(line)"
            case .emptyInput:
                return nil
            }
        }
    }

    /// The key path (`a.b[2].c`) of the first key repeated within one object, or nil.
    static func firstDuplicateKey(in data: Data) -> String? {
        let bytes = [UInt8](data)
        var scanner = Scanner(bytes: bytes)
        return scanner.run()
    }

    private enum Frame {
        case object(keys: Set<String>, current: String?, awaitingKey: Bool)
        case array(index: Int)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0
        var stack: [Frame] = []

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func run() -> String? {
            while position < bytes.count {
                let byte = bytes[position]
                switch byte {
                case UInt8(ascii: "{"):
                    stack.append(.object(keys: [], current: nil, awaitingKey: true))
                    position += 1
                case UInt8(ascii: "["):
                    stack.append(.array(index: 0))
                    position += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard !stack.isEmpty else { return nil }
                    stack.removeLast()
                    position += 1
                case UInt8(ascii: ","):
                    switch stack.last {
                    case .object(let keys, let current, _):
                        stack[stack.count - 1] = .object(keys: keys, current: current, awaitingKey: true)
                    case .array(let index):
                        stack[stack.count - 1] = .array(index: index + 1)
                    case nil:
                        return nil
                    }
                    position += 1
                case UInt8(ascii: "\""):
                    guard let text = string() else { return nil }
                    if case .object(var keys, _, true)? = stack.last {
                        if keys.contains(text) { return path(appending: text) }
                        keys.insert(text)
                        stack[stack.count - 1] = .object(keys: keys, current: text, awaitingKey: false)
                    }
                default:
                    // Whitespace, ':', numbers and literals carry no keys.
                    position += 1
                }
            }
            return nil
        }

        /// The key path of the open frames, ending in `key`.
        func path(appending key: String) -> String {
            var text = ""
            for frame in stack.dropLast() {
                switch frame {
                case .object(_, let current, _):
                    let name = current ?? ""
                    text += text.isEmpty ? name : ".\(name)"
                case .array(let index):
                    text += "[\(index)]"
                }
            }
            return text.isEmpty ? key : "\(text).\(key)"
        }

        /// Reads the string starting at the opening quote, unescaped; nil if malformed.
        mutating func string() -> String? {
            position += 1
            var text = ""
            var segmentStart = position
            var units: [UInt16] = []
            func flushUnits() {
                if !units.isEmpty { text += String(decoding: units, as: UTF16.self); units.removeAll() }
            }
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    flushUnits()
                    text += String(decoding: bytes[segmentStart..<position], as: UTF8.self)
                    position += 1
                    return text
                }
                guard byte == UInt8(ascii: "\\") else { position += 1; continue }
                text += String(decoding: bytes[segmentStart..<position], as: UTF8.self)
                guard position + 1 < bytes.count else { return nil }
                let escaped = bytes[position + 1]
                position += 2
                if escaped == UInt8(ascii: "u") {
                    guard position + 4 <= bytes.count,
                          let unit = UInt16(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16) else { return nil }
                    units.append(unit)
                    position += 4
                } else {
                    flushUnits()
                    switch escaped {
                    case UInt8(ascii: "n"): text += "\n"
                    case UInt8(ascii: "t"): text += "\t"
                    case UInt8(ascii: "r"): text += "\r"
                    case UInt8(ascii: "b"): text += "\u{08}"
                    case UInt8(ascii: "f"): text += "\u{0C}"
                    default: text += String(decoding: [escaped], as: UTF8.self)
                    }
                }
                if position < bytes.count, bytes[position] != UInt8(ascii: "\\") { flushUnits() }
                segmentStart = position
            }
            return nil
        }
    }
}
