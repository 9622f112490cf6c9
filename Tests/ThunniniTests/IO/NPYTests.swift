import Foundation
import Testing
@testable import Thunnini

/// Blobs written by `numpy.save` (numpy 2.4) and the arrays they were made from.
enum NumpyFixtures {
    static func blob(_ base64: String) -> Data { Data(base64Encoded: base64)! }

    /// `np.array([[1.5, -2.25, 3.0], [0.0, 1e-300, -0.1]])`
    static let float64 = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4PwAAAAAAAALAAAAAAAAACEAAAAAAAAAAAFnz+MIfbqUBmpmZmZmZub8=")
    /// `np.array([0.1, -7.25], dtype='<f4')`
    static let float32 = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIArNzMw9AADowA==")
    /// `np.array([-3, 7], dtype='<i4')`
    static let int32 = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr9////BwAAAA==")
    /// `np.array([2**53, -5], dtype='<i8')`
    static let int64 = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAgAPv/////////")
    /// `np.array([2**53 + 1], dtype='<i8')`: not exactly a Double.
    static let int64TooLarge = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAgAA==")
    /// `np.array([4294967295, 0], dtype='<u4')`
    static let uint32 = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnPHU0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr/////AAAAAA==")
    /// `np.array([0, 255], dtype='u1')`
    static let uint8 = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoA/w==")
    /// `np.array([True, False, True])`
    static let bool = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=")
    /// `np.array(3.5)`
    static let scalar = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAMQA==")
    /// `np.asfortranarray(np.arange(6.0).reshape(2, 3))`
    static let fortran = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAAhAAAAAAAAA8D8AAAAAAAAQQAAAAAAAAABAAAAAAAAAFEA=")
    /// `np.array([1.0, 2.0], dtype='>f8')`
    static let bigEndian = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnPmY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/8AAAAAAAAEAAAAAAAAAA")
    /// `np.array([1 + 2j])`
    static let complex = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnPGMxNicsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgxLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAADwPwAAAAAAAABA")
    /// `np.zeros((0, 3))`
    static let empty = blob("k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDAsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=")
    /// `np.lib.format.write_array(f, np.array([1.0, 2.0]), version=(2, 0))`
    static let version2 = blob("k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAADwPwAAAAAAAABA")
    /// `np.savez_compressed(f, **{'a/b': np.array([1.0, 2.0]), 'c': np.array([[1, 2], [3, 4]], dtype='<i4')})`
    static let compressedNPZ = blob("UEsDBC0AAAAIAAAAIQBkW6q///////////8HABQAYS9iLm5weQEAEACQAAAAAAAAAEwAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbpNmoa6joJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkaRjqaOgq1ChQALgYw+GAPoRkcAFBLAwQtAAAACAAAACEAe8hhfP//////////BQAUAGMubnB5AQAQAJAAAAAAAAAAUgAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2mirqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RpGOgpGmjoKtQpkAy5GBgYGJiBmBmIWIAYAUEsBAi0DLQAAAAgAAAAhAGRbqr9MAAAAkAAAAAcAAAAAAAAAAAAAAIABAAAAAGEvYi5ucHlQSwECLQMtAAAACAAAACEAe8hhfFIAAACQAAAABQAAAAAAAAAAAAAAgAGFAAAAYy5ucHlQSwUGAAAAAAIAAgBoAAAADgEAAAAA")
}

/// Asserts that `body` throws a ThunniniError whose message contains every fragment.
func expectThunniniError(_ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error mentioning \(fragments)", sourceLocation: sourceLocation)
    } catch let error as ThunniniError {
        for fragment in fragments {
            #expect(error.message.contains(fragment), "'\(error.message)' does not mention '\(fragment)'",
                    sourceLocation: sourceLocation)
        }
        #expect(!error.message.contains("\n"), "error is not one line: \(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a ThunniniError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct NPYTests {
    @Test func readsNumpyFloat64InCOrder() throws {
        let tensor = try NPY.decode(NumpyFixtures.float64, name: "x")
        #expect(tensor.shape == [2, 3])
        #expect(tensor.storage == [1.5, -2.25, 3.0, 0.0, 1e-300, -0.1])
    }

    @Test func widensFloat32Exactly() throws {
        let tensor = try NPY.decode(NumpyFixtures.float32, name: "x")
        #expect(tensor.shape == [2])
        #expect(tensor.storage == [Double(Float(0.1)), -7.25])
    }

    @Test func widensIntegerAndBoolDtypes() throws {
        #expect(try NPY.decode(NumpyFixtures.int32, name: "x").storage == [-3, 7])
        #expect(try NPY.decode(NumpyFixtures.int64, name: "x").storage == [9_007_199_254_740_992, -5])
        #expect(try NPY.decode(NumpyFixtures.uint32, name: "x").storage == [4_294_967_295, 0])
        #expect(try NPY.decode(NumpyFixtures.uint8, name: "x").storage == [0, 255])
        #expect(try NPY.decode(NumpyFixtures.bool, name: "x").storage == [1, 0, 1])
    }

    @Test func readsScalarEmptyAndVersion2() throws {
        let scalar = try NPY.decode(NumpyFixtures.scalar, name: "s")
        #expect(scalar.shape == [] && scalar.storage == [3.5])
        let empty = try NPY.decode(NumpyFixtures.empty, name: "e")
        #expect(empty.shape == [0, 3] && empty.storage.isEmpty)
        let v2 = try NPY.decode(NumpyFixtures.version2, name: "v")
        #expect(v2.shape == [2] && v2.storage == [1, 2])
    }

    @Test func encodesExactlyAsNumpySave() {
        let matrix = Tensor(shape: [2, 3], storage: [1.5, -2.25, 3.0, 0.0, 1e-300, -0.1])
        #expect(NPY.encode(matrix) == NumpyFixtures.float64)
        #expect(NPY.encode(Tensor(scalar: 3.5)) == NumpyFixtures.scalar)
        #expect(NPY.encode(Tensor(shape: [0, 3])) == NumpyFixtures.empty)
    }

    @Test func roundTripsSpecialValues() throws {
        let values: [Double] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let decoded = try NPY.decode(NPY.encode(Tensor(shape: [3, 2], storage: values)), name: "x")
        #expect(decoded.shape == [3, 2])
        #expect(decoded.storage.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func rejectsFortranOrder() {
        expectThunniniError(["'f'", "fortran_order"]) { _ = try NPY.decode(NumpyFixtures.fortran, name: "f") }
    }

    @Test func rejectsBigEndian() {
        expectThunniniError(["'b'", "big-endian", ">f8"]) { _ = try NPY.decode(NumpyFixtures.bigEndian, name: "b") }
    }

    @Test func rejectsUnknownDtype() {
        expectThunniniError(["'c'", "unsupported dtype", "<c16"]) { _ = try NPY.decode(NumpyFixtures.complex, name: "c") }
    }

    @Test func rejectsInt64BeyondDoublePrecision() {
        expectThunniniError(["'big'", "does not fit"]) { _ = try NPY.decode(NumpyFixtures.int64TooLarge, name: "big") }
    }

    @Test func rejectsTruncatedData() {
        let truncated = NumpyFixtures.float64.dropLast(3)
        expectThunniniError(["'t'", "truncated data", "needs 48 bytes, found 45"]) {
            _ = try NPY.decode(Data(truncated), name: "t")
        }
        expectThunniniError(["'t'", "truncated"]) { _ = try NPY.decode(Data(NumpyFixtures.float64.prefix(40)), name: "t") }
        expectThunniniError(["'t'", "magic"]) { _ = try NPY.decode(Data(NumpyFixtures.float64.prefix(5)), name: "t") }
    }

    @Test func rejectsMalformedHeaders() {
        func blob(_ header: String, version: UInt8 = 1) -> Data {
            var bytes: [UInt8] = NPY.magic + [version, 0, UInt8(header.utf8.count), 0]
            bytes += Array(header.utf8)
            return Data(bytes)
        }
        expectThunniniError(["'h'", "malformed", "missing key 'shape'"]) {
            _ = try NPY.decode(blob("{'descr': '<f8', 'fortran_order': False}\n"), name: "h")
        }
        expectThunniniError(["'h'", "malformed", "unexpected key 'color'"]) {
            _ = try NPY.decode(blob("{'descr': '<f8', 'color': 1}\n"), name: "h")
        }
        expectThunniniError(["'h'", "malformed"]) {
            _ = try NPY.decode(blob("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,)}\n"), name: "h")
        }
        expectThunniniError(["'h'", "malformed"]) {
            _ = try NPY.decode(blob("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}\n"), name: "h")
        }
        expectThunniniError(["'h'", "version 3.0"]) {
            _ = try NPY.decode(blob("{}", version: 3), name: "h")
        }
    }
}
