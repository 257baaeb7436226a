import Foundation

/// Writes files so that a reader sees the old bytes or the new, never a part.
public enum AtomicFile {
    /// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
    /// Creates missing parent folders.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url, options: .atomic)
    }
}

/// Plain POSIX calls for the checks and reads a run makes per file of a dump or a dataset.
public enum FileSystem {
    /// Whether `path` names something (links followed): one `access` call, for checks made per
    /// image of a dataset, where `FileManager.fileExists` costs several times more.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The bytes of the file at `path`, read straight into one buffer a byte larger than `fstat`
    /// gives (a file that grew meanwhile is read on to its end); nil when it cannot be opened or
    /// read, or holds more than `limit` bytes (errno is then EFBIG).
    public static func read(_ path: String, limit: Int = .max) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = Int(st.st_size)
        guard size <= limit else { errno = EFBIG; return nil }
        var failed = false
        /// Fills `buffer` from the file up to its end; how many bytes it holds.
        func fill(_ buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
            var count = 0
            while count < buffer.count {
                let n = Foundation.read(fd, buffer.baseAddress! + count, buffer.count - count)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failed = true }
                if n <= 0 { break }
                count += n
            }
            return count
        }
        var out = [UInt8](unsafeUninitializedCapacity: size + 1) { buffer, count in count = fill(buffer) }
        while !failed && out.count > size && out.count <= limit {
            let chunk = [UInt8](unsafeUninitializedCapacity: 1 << 16) { buffer, count in count = fill(buffer) }
            if chunk.isEmpty { break }
            out += chunk
        }
        if out.count > limit { errno = EFBIG; return nil }
        return failed ? nil : out
    }
}
