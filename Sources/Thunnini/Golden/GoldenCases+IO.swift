import Foundation

extension GoldenRegistry {
    /// Cases of the IO area: arrays pushed through `.npz` and `.npy` and back.
    static func ioCases() -> [GoldenCase] {
        [GoldenCase(name: "io_npz_round_trip", produce: npzRoundTrip)]
    }

    /// A few fixed arrays (including awkward values) written to a `.npz`,
    /// read back, plus a float32 `.npy` widened to Double.
    private static func npzRoundTrip() throws -> [(String, Tensor)] {
        // Values chosen to be exact without libm: dyadic grid, 1/3 and 0.1 (correctly rounded
        // division), subnormals and extremes.
        let grid = Tensor(shape: [3, 4], storage: (0..<12).map { Double(7 * $0 - 5) / 8 })
        let awkward = Tensor(shape: [2, 3], storage: [1.0 / 3, 0.1, -0.0, 1e-300, 5e-324, .greatestFiniteMagnitude])
        let scalar = Tensor(scalar: -2.5)
        let arrays = ["grid": grid, "nested/awkward": awkward, "scalar": scalar]

        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("thunnini-golden-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("arrays.npz")
        try NPZ.write(arrays, to: url)
        let read = try NPZ.read(url)

        // A float32 array as numpy writes it: 0.1f and -1/3 rounded to float32, then widened.
        var blob = NPY.magic + [1, 0]
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        blob += [UInt8(header.utf8.count), 0] + Array(header.utf8)
        for value in [Float(0.1), Float(-1.0 / 3)] {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { blob += $0 }
        }
        let widened = try NPY.decode(Data(blob), name: "float32")

        return [("grid", read["grid"]!), ("nested/awkward", read["nested/awkward"]!),
                ("scalar", read["scalar"]!), ("float32_widened", widened)]
    }
}
