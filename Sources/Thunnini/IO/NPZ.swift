import Foundation
import ZIPFoundation

/// Reading and writing `.npz` archives: a zip of `.npy` files, one per array,
/// entry `<name>.npy` for the array `name` (names may contain `/`).
///
/// Reading accepts stored and deflated entries (`numpy.savez` and
/// `numpy.savez_compressed`). Writing stores `<f8` arrays uncompressed, in
/// sorted name order, with a fixed modification date (1980-01-01 00:00 UTC)
/// and fixed permissions, so identical input gives a byte-identical file; the
/// file is replaced atomically.
public enum NPZ {
    /// The modification date of every written entry: the earliest DOS date.
    static let fixedModificationDate = Date(timeIntervalSince1970: 315_532_800)

    /// Checks an array's name and the shape its `.npy` header declares,
    /// before the array is inflated; throws to refuse it (the error is
    /// passed on unchanged, so it names the file itself).
    public typealias ShapeCheck = (_ name: String, _ shape: [Int]) throws -> Void

    /// Reads the arrays of the archive at `url`, keyed by name (without
    /// `.npy`): all of them, or only those named in `only` (the others are
    /// not inflated). `checkShape` sees each array's declared shape as soon
    /// as its header is inflated, so that a reader that knows what to expect
    /// (parameters of a given predictor, sequences of a given vocabulary)
    /// refuses a decompression bomb after its first block, not after
    /// gigabytes.
    public static func read(_ url: URL, only: Set<String>? = nil, checkShape: ShapeCheck? = nil) throws -> [String: Tensor] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ThunniniError("\(url.path): cannot read (\(error.localizedDescription))")
        }
        return try read(data, source: url.path, only: only, checkShape: checkShape)
    }

    /// The longest `.npy` header inflated before giving up on finding its end
    /// (numpy writes headers of a few hundred bytes; a version 2 header may
    /// declare up to 4 GB).
    static let maximumHeaderBytes = 1 << 20

    /// Reads the arrays of an in-memory archive; `source` names it in errors.
    public static func read(_ data: Data, source: String, only: Set<String>? = nil, checkShape: ShapeCheck? = nil) throws -> [String: Tensor] {
        guard let record = endOfCentralDirectory(data) else {
            throw ThunniniError("\(source): not a zip archive or truncated (no end-of-central-directory record)")
        }
        let declaredEntries = record.entries
        // ZIPFoundation's in-memory reader traps (instead of throwing) on an
        // offset past the end of the data: check every offset first.
        if let problem = boundsProblem(data, record) {
            throw ThunniniError("\(source): corrupt zip archive (\(problem))")
        }
        let archive: Archive
        do {
            archive = try Archive(data: data, accessMode: .read)
        } catch {
            throw ThunniniError("\(source): not a readable zip archive (\(error))")
        }
        var arrays: [String: Tensor] = [:]
        var seenEntries = 0
        for entry in archive {
            seenEntries += 1
            guard entry.type == .file else { continue }
            let path = entry.path
            guard path.hasSuffix(".npy"), path.count > 4 else {
                throw ThunniniError("\(source): entry '\(path)' is not a .npy array")
            }
            let name = String(path.dropLast(4))
            guard arrays[name] == nil else {
                throw ThunniniError("\(source): array '\(name)' appears twice")
            }
            if let only, !only.contains(name) { continue }
            // Inflate no more than the zip directory and the .npy header declare,
            // and nothing above the memory budget (a small archive can inflate to gigabytes).
            let declaredSize = Int(clamping: entry.uncompressedSize)
            guard Double(declaredSize) * 3 <= Double(MemoryBudget.bytes) else {
                throw ThunniniError("\(source): array '\(name)' declares \(MemoryBudget.describe(Double(declaredSize))), above the memory budget of \(MemoryBudget.describe(Double(MemoryBudget.bytes))) (--max-memory)")
            }
            var blob = Data()
            var headerSize: Int? = nil
            let checksum: CRC32
            do {
                checksum = try archive.extract(entry) { chunk in
                    blob.append(chunk)
                    if headerSize == nil, let header = NPY.declaredHeader(prefix: blob) {
                        headerSize = header.size
                        do { try checkShape?(name, header.shape) } catch { throw ShapeRefusal(error: error) }
                    }
                    if headerSize == nil, blob.count > maximumHeaderBytes { throw HeaderLimit() }
                    if blob.count > declaredSize || blob.count - (1 << 16) > (headerSize ?? Int.max) {
                        throw InflationLimit()
                    }
                }
            } catch is InflationLimit {
                throw ThunniniError("\(source): entry '\(path)' inflates beyond its declared size")
            } catch is HeaderLimit {
                // Let the .npy reader name what is wrong with the header.
                do { _ = try NPY.decode(blob, name: name) } catch let error as ThunniniError {
                    throw ThunniniError("\(source): \(error.message)")
                }
                throw ThunniniError("\(source): array '\(name)' has no .npy header in its first \(MemoryBudget.describe(Double(maximumHeaderBytes)))")
            } catch let refusal as ShapeRefusal {
                throw refusal.error
            } catch {
                throw ThunniniError("\(source): entry '\(path)' is corrupt (\(error))")
            }
            // Extracting to a consumer computes the CRC but does not check it.
            guard checksum == entry.checksum else {
                throw ThunniniError("\(source): entry '\(path)' is corrupt (CRC-32 mismatch)")
            }
            do {
                arrays[name] = try NPY.decode(blob, name: name)
            } catch let error as ThunniniError {
                throw ThunniniError("\(source): \(error.message)")
            }
        }
        // ZIPFoundation stops iterating silently at an unreadable record.
        if declaredEntries != 0xFFFF, seenEntries != declaredEntries {
            throw ThunniniError("\(source): corrupt zip archive (directory declares \(declaredEntries) entries, \(seenEntries) readable)")
        }
        return arrays
    }

    /// Writes `arrays` to `url` as `<f8` `.npy` entries, deterministically and atomically.
    public static func write(_ arrays: [String: Tensor], to url: URL) throws {
        try writeAtomically(try encode(arrays, destination: url.path), to: url)
    }

    /// The bytes of the archive `write` would produce; with `compressed`,
    /// entries are deflated (as `numpy.savez_compressed`; deterministic for
    /// one zlib version, and read back by value).
    public static func encode(_ arrays: [String: Tensor], destination: String = "npz", compressed: Bool = false) throws -> Data {
        for name in arrays.keys {
            guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
                throw ThunniniError("\(destination): invalid array name '\(name)'")
            }
        }
        return try encode(entries: arrays.mapValues { NPY.encode($0) }, destination: destination, compressed: compressed)
    }

    /// A deterministic archive of raw `.npy` blobs (entry `<name>.npy`, sorted
    /// by name). Internal: tests use it to build archives with arrays that the
    /// reader must refuse.
    static func encode(entries: [String: Data], destination: String, compressed: Bool = false) throws -> Data {
        let archive: Archive
        do {
            archive = try Archive(accessMode: .create)
        } catch {
            throw ThunniniError("\(destination): cannot create a zip archive in memory (\(error))")
        }
        for name in entries.keys.sorted() {
            let blob = entries[name]!
            do {
                try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(blob.count),
                                     modificationDate: fixedModificationDate, permissions: 0o644,
                                     compressionMethod: compressed ? .deflate : .none) { position, size in
                    let start = Int(position)
                    return blob.subdata(in: start..<min(start + size, blob.count))
                }
            } catch {
                throw ThunniniError("\(destination): cannot add array '\(name)' (\(error))")
            }
        }
        guard let data = archive.data else {
            throw ThunniniError("\(destination): the in-memory zip archive has no data")
        }
        return data
    }

    private struct InflationLimit: Error {}
    private struct HeaderLimit: Error {}
    /// An error of the caller's `checkShape`, passed on unchanged (it names its source).
    private struct ShapeRefusal: Error { var error: Error }

    /// The fields of the end-of-central-directory record that locate the entries.
    struct EndRecord {
        /// Offset of the record itself.
        var start: Int
        var entries: Int
        var directorySize: Int
        var directoryOffset: Int
    }

    /// The entry count of the end-of-central-directory record, or nil if there is none.
    static func declaredEntryCount(_ data: Data) -> Int? {
        endOfCentralDirectory(data)?.entries
    }

    /// Why the archive's directory, local headers or entry data do not lie
    /// within the file, or nil when they all do. Zip64 records (archives of
    /// more than 65535 arrays or 4 GB, which numpy writes only then) are
    /// refused rather than followed.
    static func boundsProblem(_ data: Data, _ record: EndRecord) -> String? {
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        // ZIPFoundation follows a zip64 locator (just before the end record) whatever the end record says.
        let hasZip64Locator = record.start >= 20 && u32(record.start - 20) == 0x0706_4B50
        if hasZip64Locator || record.entries == 0xFFFF || record.directorySize == 0xFFFF_FFFF || record.directoryOffset == 0xFFFF_FFFF {
            return "zip64 archives are not supported"
        }
        guard record.directoryOffset + record.directorySize <= record.start else {
            return "the central directory at \(record.directoryOffset), \(record.directorySize) bytes, lies beyond its end record at \(record.start)"
        }
        var position = record.directoryOffset
        for entry in 0..<record.entries {
            guard position + 46 <= record.start, u32(position) == 0x0201_4B50 else {
                return "central directory entry \(entry) is missing or truncated"
            }
            let flags = u16(position + 8), method = u16(position + 10)
            let compressedSize = u32(position + 20), uncompressedSize = u32(position + 24)
            let localOffset = u32(position + 42)
            guard compressedSize != 0xFFFF_FFFF, uncompressedSize != 0xFFFF_FFFF, localOffset != 0xFFFF_FFFF else {
                return "zip64 entries are not supported"
            }
            position += 46 + u16(position + 28) + u16(position + 30) + u16(position + 32)
            guard position <= record.start else { return "central directory entry \(entry) is truncated" }
            guard localOffset + 30 <= record.directoryOffset, u32(localOffset) == 0x0403_4B50 else {
                return "the local header of entry \(entry) at \(localOffset) is missing"
            }
            let dataStart = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28)
            // ZIPFoundation reads a stored entry by its uncompressed size (and by either header's method).
            let stored = method == 0 || u16(localOffset + 8) == 0
            let dataSize = stored ? max(compressedSize, uncompressedSize) : compressedSize
            guard dataStart + dataSize <= record.directoryOffset else {
                return "the data of entry \(entry) (\(dataSize) bytes at \(dataStart)) runs past the central directory"
            }
            // With general-purpose bit 3 a data descriptor (at most 16 bytes) follows the data.
            if flags & 0x8 != 0, dataStart + (method == 0 ? uncompressedSize : compressedSize) + 16 > record.start {
                return "the data descriptor of entry \(entry) lies past the end of the archive"
            }
        }
        return nil
    }

    /// The end-of-central-directory record, or nil if there is none.
    static func endOfCentralDirectory(_ data: Data) -> EndRecord? {
        let bytes = [UInt8](data)
        let recordLength = 22
        guard bytes.count >= recordLength else { return nil }
        // The record sits at the end, followed by its comment. ZIPFoundation
        // takes the last signature in the file, so this reader takes the same
        // one and refuses it unless its comment ends the file exactly.
        var start = bytes.count - recordLength
        while start >= 0 {
            if bytes[start] == 0x50, bytes[start + 1] == 0x4B, bytes[start + 2] == 0x05, bytes[start + 3] == 0x06 {
                let commentLength = Int(bytes[start + 20]) | Int(bytes[start + 21]) << 8
                guard start + recordLength + commentLength == bytes.count else { return nil }
                func word(_ at: Int) -> Int {
                    Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
                }
                return EndRecord(start: start, entries: Int(bytes[start + 10]) | Int(bytes[start + 11]) << 8,
                                 directorySize: word(start + 12), directoryOffset: word(start + 16))
            }
            start -= 1
        }
        return nil
    }
}
