import Foundation
import Synchronization

/// Writes files so that a reader sees the old bytes or the new, never a part.
public enum AtomicFile {
    /// Writes `bytes` to a temporary file beside `path`, then renames it over `path`; creates
    /// missing parent folders. `durable`: the bytes reach the disk (`fsync`) before the rename, so
    /// a power cut leaves the old file or the new one. Without it a killed process still leaves
    /// one or the other (the page cache outlives the process), at a fraction of the cost: for
    /// files that are checked when read (store objects, named by the hash of their bytes) and
    /// images written by the thousand.
    public static func write(_ bytes: [UInt8], to path: String, durable: Bool = true) throws {
        try write(bytes, to: path, durable: durable, unlinkingFirst: false)
    }

    /// `unlinkingFirst`: the old file is unlinked before the rename (`CacheFile`).
    static func write(_ bytes: [UInt8], to path: String, durable: Bool, unlinkingFirst: Bool) throws {
        let temp = FileSystem.temporaryName(beside: path)
        do {
            try FileSystem.create(temp, bytes, durable: durable)
            if unlinkingFirst { unlink(path) }
            guard rename(temp, path) == 0 else { throw FileSystem.failure("cannot rename \(temp) onto", path) }
        } catch let error as FileError {
            unlink(temp)
            throw FileError(path: path, reason: error.reason)
        }
    }
}

/// A run's own cache files (shard memos, stamps, the leakage state): written to a temporary file,
/// then the old one unlinked and the new one renamed into its place. Not renamed over the old:
/// ext4 writes out a file renamed over another at once (`auto_da_alloc`), 0.3–0.8 ms for each
/// of these in a run that adds ten photos. A run killed between the two leaves the cache
/// missing, which costs only its recomputation; views that people read (`manifest.jsonl`) are
/// replaced with `AtomicFile.write`, never missing.
public enum CacheFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try AtomicFile.write(bytes, to: path, durable: false, unlinkingFirst: true)
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
        let fd = open(FileName.cString(path), O_RDONLY | O_CLOEXEC)
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

    /// Creates `path` (it must not exist; missing parent folders are made) holding `bytes`,
    /// with `fsync` when `durable`. Mode 0666 less the umask, as `open` and Foundation give.
    public static func create(_ path: String, _ bytes: [UInt8], durable: Bool = false) throws {
        var fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        if fd < 0 && errno == ENOENT, let slash = path.lastIndex(of: "/"), slash > path.startIndex {
            try? FileManager.default.createDirectory(atPath: String(path[..<slash]), withIntermediateDirectories: true)
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        }
        guard fd >= 0 else { throw failure("cannot create", path) }
        try finish(fd, path, bytes, durable: durable)
    }

    /// Appends `bytes` to the existing file `path` (one `write` loop on an `O_APPEND` descriptor).
    /// A failure midway can leave part of them there: for files whose reader drops a record cut short.
    /// `durable`: created when missing, and the bytes reach the disk (`fsync`) before it returns
    /// (a log whose every line must survive a crash).
    public static func append(_ bytes: [UInt8], to path: String, durable: Bool = false) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | (durable ? O_CREAT : 0), 0o666)
        guard fd >= 0 else { throw failure("cannot open for appending", path) }
        defer { close(fd) }
        try bytes.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = Foundation.write(fd, b.baseAddress! + done, b.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw failure("cannot append to", path) }
                done += n
            }
        }
        if durable && fsync(fd) != 0 { throw failure("cannot sync", path) }
    }

    /// Writes `bytes` to the open, empty file `fd` at `path` and closes it; on failure the file is
    /// deleted and the error names `path`.
    static func finish(_ fd: Int32, _ path: String, _ bytes: [UInt8], durable: Bool) throws {
        var ok = true
        bytes.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = Foundation.write(fd, b.baseAddress! + done, b.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { ok = false; break }
                done += n
            }
        }
        if ok && durable && fsync(fd) != 0 { ok = false }
        let saved = errno
        if close(fd) != 0 && ok { ok = false } else { errno = saved }
        guard ok else {
            let error = failure("cannot write", path)
            unlink(path)
            throw error
        }
    }

    /// Calls `body` with the path of every plain file under `folder`, depth first; links are not
    /// followed.
    public static func walk(_ folder: String, _ body: (String) -> Void) {
        guard let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            let path = folder + "/" + name
            var type = Int32(entry.pointee.d_type)
            if type == Int32(DT_UNKNOWN) {
                var st = stat()
                guard lstat(path, &st) == 0 else { continue }
                type = st.st_mode & S_IFMT == S_IFDIR ? Int32(DT_DIR) : st.st_mode & S_IFMT == S_IFREG ? Int32(DT_REG) : 0
            }
            if type == Int32(DT_DIR) { walk(path, body) } else if type == Int32(DT_REG) { body(path) }
        }
    }

    /// A name beside `path` that no other thread or process of facet picks: `.NAME.PID.N.tmp`.
    public static func temporaryName(beside path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(folder).\(name).\(getpid()).\(counter.add(1, ordering: .relaxed).newValue).tmp"
    }

    private static let counter = Atomic<Int>(0)

    static func failure(_ what: String, _ path: String) -> FileError {
        FileError(path: path, reason: "\(what) it: \(String(cString: strerror(errno)))")
    }
}

/// A file that could not be written: the path and the system's reason.
public struct FileError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}
