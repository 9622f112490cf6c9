import Foundation

/// Reading and writing single arrays in NumPy's `.npy` format.
///
/// Reading accepts what `numpy.save` writes for the arrays the original
/// exports: C order, header version 1.0 or 2.0, and the dtypes that widen to
/// `Double` without changing any value: little-endian `<f4`, `<f8`, `<i4`,
/// `<i8` (only values of magnitude <= 2^53), `<u4`, and the byte types `|u1`,
/// `|b1`. Everything else (Fortran order, big-endian data, other dtypes,
/// truncated data, malformed headers) is rejected with an error naming the
/// array. Writing always produces `<f8`, version 1.0.
public enum NPY {
    /// The six magic bytes every `.npy` file starts with.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    /// Decodes one `.npy` blob; `name` is only used in error messages.
    public static func decode(_ data: Data, name: String) throws -> Tensor {
        let bytes = [UInt8](data)
        func fail(_ problem: String) -> ThunniniError {
            ThunniniError("array '\(name)': \(problem)")
        }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw fail("not a .npy array (missing the \\x93NUMPY magic)")
        }
        let major = bytes[6], minor = bytes[7]
        let headerLength: Int
        let headerStart: Int
        switch (major, minor) {
        case (1, 0):
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case (2, 0):
            guard bytes.count >= 12 else { throw fail("truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported .npy format version \(major).\(minor) (only 1.0 and 2.0)")
        }
        let dataStart = headerStart + headerLength
        guard dataStart <= bytes.count else { throw fail("truncated .npy header") }
        guard let headerText = String(bytes: bytes[headerStart..<dataStart], encoding: .ascii) else {
            throw fail("malformed .npy header (not ASCII)")
        }
        let header: NPYHeader
        do {
            header = try NPYHeader.parse(headerText)
        } catch let error as NPYHeader.ParseError {
            throw fail("malformed .npy header: \(error.problem)")
        }
        if header.fortranOrder {
            throw fail("fortran_order True is not supported (C order only)")
        }
        guard let dtype = NPYDType(descr: header.descr) else {
            if header.descr.hasPrefix(">") {
                throw fail("big-endian dtype '\(header.descr)' is not supported (little-endian only)")
            }
            throw fail("unsupported dtype '\(header.descr)' (expected one of \(NPYDType.supported))")
        }
        let count: Int, byteCount: Int
        do {
            count = try checkedProduct(header.shape, "shape \(header.shape)")
            byteCount = try checkedProduct([count, dtype.byteWidth], "shape \(header.shape)")
        } catch let error as ThunniniError {
            throw fail(error.message)
        }
        let available = bytes.count - dataStart
        guard available >= byteCount else {
            throw fail("truncated data: shape \(header.shape) of \(header.descr) needs \(byteCount) bytes, found \(available)")
        }
        guard available == byteCount else {
            throw fail("\(available - byteCount) unexpected bytes after the data of shape \(header.shape)")
        }
        var storage = [Double](repeating: 0, count: count)
        for index in 0..<count {
            let value = dtype.read(bytes, at: dataStart + index * dtype.byteWidth)
            guard let value else {
                throw fail("element \(index) of \(header.descr) does not fit a Double exactly")
            }
            storage[index] = value
        }
        return Tensor(shape: header.shape, storage: storage)
    }

    /// The total size in bytes (header and data) that the `.npy` blob starting
    /// with `prefix` declares, once `prefix` holds the whole header; nil while
    /// it does not (or when the header is malformed: `decode` reports that).
    /// Lets a reader stop inflating an archive entry at the declared size.
    static func declaredSize(prefix: Data) -> Int? {
        declaredHeader(prefix: prefix)?.size
    }

    /// The shape and the total size (header and data) that the `.npy` blob
    /// starting with `prefix` declares, once `prefix` holds the whole header.
    static func declaredHeader(prefix: Data) -> (shape: [Int], size: Int)? {
        let bytes = [UInt8](prefix.prefix(12))
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { return nil }
        let headerLength: Int, headerStart: Int
        switch (bytes[6], bytes[7]) {
        case (1, 0): headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case (2, 0):
            guard bytes.count >= 12 else { return nil }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default: return nil
        }
        let dataStart = headerStart + headerLength
        guard prefix.count >= dataStart,
              let text = String(bytes: prefix[prefix.startIndex + headerStart..<prefix.startIndex + dataStart], encoding: .ascii),
              let header = try? NPYHeader.parse(text), let dtype = NPYDType(descr: header.descr),
              let count = try? checkedProduct(header.shape + [dtype.byteWidth], "") else { return nil }
        return (header.shape, count > Int.max - dataStart ? Int.max : dataStart + count)
    }

    /// Encodes a tensor as a version 1.0 `.npy` blob of little-endian float64 (`<f8`).
    public static func encode(_ tensor: Tensor) -> Data {
        let shapeText: String
        switch tensor.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(tensor.shape[0]),)"
        default: shapeText = "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': \(shapeText), }"
        // numpy pads magic + version + length + header to a multiple of 64 bytes, ending in '\n'.
        let prefixLength = magic.count + 2 + 2
        let unpadded = prefixLength + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes = magic
        bytes += [1, 0]
        let headerLength = header.utf8.count
        bytes += [UInt8(headerLength & 0xFF), UInt8(headerLength >> 8)]
        bytes += Array(header.utf8)
        bytes.reserveCapacity(bytes.count + 8 * tensor.count)
        for value in tensor.storage {
            var bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { bytes += $0 }
        }
        return Data(bytes)
    }
}

/// The dtypes `NPY.decode` accepts, each read into `Double`.
enum NPYDType {
    case float32, float64, int32, int64, uint32, uint8, bool

    static let supported = "'<f4', '<f8', '<i4', '<i8', '<u4', '|u1', '|b1'"

    init?(descr: String) {
        switch descr {
        case "<f4": self = .float32
        case "<f8": self = .float64
        case "<i4": self = .int32
        case "<i8": self = .int64
        case "<u4": self = .uint32
        case "|u1", "<u1": self = .uint8
        case "|b1", "<b1": self = .bool
        default: return nil
        }
    }

    var byteWidth: Int {
        switch self {
        case .float32, .int32, .uint32: 4
        case .float64, .int64: 8
        case .uint8, .bool: 1
        }
    }

    /// The little-endian unsigned integer of `width` bytes at `offset`.
    private static func word(_ bytes: [UInt8], at offset: Int, width: Int) -> UInt64 {
        var word: UInt64 = 0
        for byte in 0..<width {
            word |= UInt64(bytes[offset + byte]) << (8 * UInt64(byte))
        }
        return word
    }

    /// The element at `offset` as a Double, or nil if it is not exactly representable.
    func read(_ bytes: [UInt8], at offset: Int) -> Double? {
        let raw = Self.word(bytes, at: offset, width: byteWidth)
        switch self {
        case .float32: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
        case .float64: return Double(bitPattern: raw)
        case .int32: return Double(Int32(bitPattern: UInt32(truncatingIfNeeded: raw)))
        case .uint32: return Double(UInt32(truncatingIfNeeded: raw))
        case .int64:
            let value = Int64(bitPattern: raw)
            // Beyond 2^53 not every integer is a Double: refuse rather than round silently.
            guard value.magnitude <= (1 << 53) else { return nil }
            return Double(value)
        case .uint8: return Double(raw)
        case .bool: return raw == 0 ? 0 : 1
        }
    }
}

/// The Python dict literal of a `.npy` header, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
struct NPYHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    struct ParseError: Error {
        let problem: String
    }

    /// Parses the header dict; exactly the keys `descr`, `fortran_order`, `shape` are required.
    static func parse(_ text: String) throws -> NPYHeader {
        var scanner = LiteralScanner(Array(text.utf8))
        var descr: String?
        var fortranOrder: Bool?
        var shape: [Int]?
        try scanner.expect(UInt8(ascii: "{"))
        while true {
            scanner.skipSpaces()
            if scanner.consume(UInt8(ascii: "}")) { break }
            let key = try scanner.quotedString()
            try scanner.expect(UInt8(ascii: ":"))
            switch key {
            case "descr": descr = try scanner.quotedString()
            case "fortran_order": fortranOrder = try scanner.boolean()
            case "shape": shape = try scanner.intTuple()
            default: throw ParseError(problem: "unexpected key '\(key)'")
            }
            scanner.skipSpaces()
            if scanner.consume(UInt8(ascii: ",")) { continue }
            try scanner.expect(UInt8(ascii: "}"))
            break
        }
        scanner.skipSpaces()
        guard scanner.atEnd else { throw ParseError(problem: "unexpected text after the header dict") }
        guard let descr else { throw ParseError(problem: "missing key 'descr'") }
        guard let fortranOrder else { throw ParseError(problem: "missing key 'fortran_order'") }
        guard let shape else { throw ParseError(problem: "missing key 'shape'") }
        return NPYHeader(descr: descr, fortranOrder: fortranOrder, shape: shape)
    }
}

/// A cursor over the few Python literals a `.npy` header uses.
private struct LiteralScanner {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }

    mutating func skipSpaces() {
        while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) {
            position += 1
        }
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        skipSpaces()
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    mutating func expect(_ byte: UInt8) throws {
        guard consume(byte) else {
            throw NPYHeader.ParseError(problem: "expected '\(Character(UnicodeScalar(byte)))' at offset \(position)")
        }
    }

    mutating func quotedString() throws -> String {
        skipSpaces()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "'") || bytes[position] == UInt8(ascii: "\"") else {
            throw NPYHeader.ParseError(problem: "expected a quoted string at offset \(position)")
        }
        let quote = bytes[position]
        position += 1
        let start = position
        while position < bytes.count, bytes[position] != quote { position += 1 }
        guard position < bytes.count else { throw NPYHeader.ParseError(problem: "unterminated string") }
        let value = String(decoding: bytes[start..<position], as: UTF8.self)
        position += 1
        return value
    }

    mutating func boolean() throws -> Bool {
        skipSpaces()
        for (word, value) in [("True", true), ("False", false)] {
            let utf8 = Array(word.utf8)
            if position + utf8.count <= bytes.count, Array(bytes[position..<position + utf8.count]) == utf8 {
                position += utf8.count
                return value
            }
        }
        throw NPYHeader.ParseError(problem: "expected True or False at offset \(position)")
    }

    mutating func integer() throws -> Int {
        skipSpaces()
        let start = position
        while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
            position += 1
        }
        // numpy 1.x on some platforms wrote long integers as e.g. `3L`.
        let digits = String(decoding: bytes[start..<position], as: UTF8.self)
        if position < bytes.count, bytes[position] == UInt8(ascii: "L") { position += 1 }
        guard let value = Int(digits) else {
            throw NPYHeader.ParseError(problem: "expected a non-negative integer at offset \(start)")
        }
        return value
    }

    mutating func intTuple() throws -> [Int] {
        try expect(UInt8(ascii: "("))
        var values: [Int] = []
        while true {
            if consume(UInt8(ascii: ")")) { return values }
            values.append(try integer())
            if consume(UInt8(ascii: ",")) { continue }
            try expect(UInt8(ascii: ")"))
            return values
        }
    }
}
