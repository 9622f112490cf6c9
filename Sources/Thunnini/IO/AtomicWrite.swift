import Foundation

/// Writes `data` to `url` so that readers see either the old file or the
/// complete new one, never a partial write: the bytes go to a temporary file
/// in the same directory, which is then renamed over the destination
/// (`rename(2)` is atomic within one file system).
public func writeAtomically(_ data: Data, to url: URL) throws {
    let directory = url.deletingLastPathComponent()
    let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    do {
        try data.write(to: temporary)
    } catch {
        throw ThunniniError("\(url.path): cannot write (\(error.localizedDescription))")
    }
    guard rename(temporary.path, url.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temporary)
        throw ThunniniError("\(url.path): cannot move the written file into place (\(reason))")
    }
}
