import Foundation
import Synchronization

/// Emptied files kept in a folder to be written again, for a folder of thousands of files that is
/// rebuilt beside the old one and swapped in (a dataset). Without a journal (ext4 can run so, and
/// does on the machines facet is measured on) the kernel passes over every inode freed in the last
/// minute, or five while its block is unwritten, before it hands out a new one: each file created
/// after a tree was deleted costs more than the one before, and a dataset rebuilt every few seconds
/// got slower run after run. A file taken from the pool is renamed into place, emptied and
/// written, like an overwrite, so no inode is freed or made.
public final class FilePool: Sendable {
    public let folder: String
    private let free: Mutex<[String]>
    private let serial = Atomic<Int>(0)
    /// Names given here start with it: unique to this pool object, whatever the folder holds.
    private let token = String(UInt64.random(in: 0 ... .max), radix: 36)

    /// The pool kept in `folder` (made when first filled).
    public init(folder: String) {
        self.folder = folder
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        free = Mutex(names.filter { !$0.hasPrefix(".") }.sorted().map { folder + "/" + $0 })
    }

    /// How many files the pool holds unused.
    public var count: Int { free.withLock { $0.count } }

    /// Creates `path`, which must not exist, holding `bytes`: from a pooled file when one is left
    /// and turns out a plain file of one link (a link planted in the pool is dropped, never written
    /// through), else a new file as `FileSystem.create` makes it.
    public func create(_ path: String, _ bytes: [UInt8]) throws {
        while let pooled = free.withLock({ $0.popLast() }) {
            guard rename(pooled, path) == 0 else {
                if errno == ENOENT || errno == EXDEV { continue }   // taken by another run; a pool on another file system
                break
            }
            // Emptied only once it is known to be a plain file of no other name.
            let fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
            var st = stat()
            guard fd >= 0, fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_nlink == 1, ftruncate(fd, 0) == 0 else {
                if fd >= 0 { close(fd) }
                unlink(path)
                continue
            }
            return try FileSystem.finish(fd, path, bytes, durable: false)
        }
        try FileSystem.create(path, bytes)
    }

    /// Empties the files of `tree` into the pool, up to `keep` unused files in all (unused files
    /// beyond it and the tree's other files are deleted), and removes what is left of the tree.
    /// Files with other links stay whole and go with the tree.
    public func absorb(_ tree: String, keep: Int) {
        let fm = FileManager.default
        trim(keep: keep)
        var room = keep - count
        if room > 0 {
            try? fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var files: [String] = []
            FileSystem.walk(tree) { files.append($0) }
            for file in files where room > 0 {
                // A file with other links (a dataset hard-linked from the pipeline's store) is not ours to empty.
                var st = stat()
                guard lstat(file, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_nlink == 1, truncate(file, 0) == 0 else { continue }
                let name = "\(folder)/\(token)-\(serial.add(1, ordering: .relaxed).newValue)"
                if rename(file, name) == 0 { room -= 1 }
            }
        }
        try? fm.removeItem(atPath: tree)
    }

    /// Deletes the pool's files beyond `keep` unused ones.
    private func trim(keep: Int) {
        let surplus = free.withLock { f in
            let n = max(0, f.count - keep)
            defer { f.removeFirst(n) }
            return Array(f.prefix(n))
        }
        for f in surplus { unlink(f) }
    }
}
