import FacetCore
import FacetImage
import Foundation

/// The files of a photo dump, found recursively: symbolic links are followed, each real
/// folder is entered once (so link loops end), and whatever cannot be listed or is not a
/// regular file is reported rather than skipped.
public struct DumpListing: Sendable {
    public struct File: Sendable, Equatable {
        /// Relative to the dump root, `/`-separated.
        public var path: String
        public var size: Int
        /// Modification time in nanoseconds since 1970.
        public var mtime: Int64

        init(_ path: String, _ entry: stat) {
            (self.path, size) = (path, Int(entry.st_size))
            mtime = Int64(entry.st_mtim.tv_sec) * 1_000_000_000 + Int64(entry.st_mtim.tv_nsec)
        }
    }
    public var files: [File] = []
    /// Entries that are not usable files: unreadable folders, broken links, devices, …
    public var problems: [QuarantineRecord] = []

    /// The file at `path`, found by bisection (the files are sorted by path).
    public func file(_ path: String) -> File? {
        var lo = 0, hi = files.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if files[mid].path < path { lo = mid + 1 } else { hi = mid }
        }
        return lo < files.count && files[lo].path == path ? files[lo] : nil
    }

    /// An entry that is not a folder: a regular file joins the files, anything else the problems.
    mutating func add(_ path: String, _ status: Result<stat, DataError>) {
        switch status {
        case .success(let entry) where entry.st_mode & S_IFMT == S_IFREG: files.append(File(path, entry))
        case .success: problems.append(QuarantineRecord(source: path, reason: "not a regular file (device, pipe or socket)", kind: "unreadable", bytes: nil))
        case .failure(let e): problems.append(QuarantineRecord(source: path, reason: e.description, kind: "unreadable", bytes: nil))
        }
    }
}

public enum DumpWalker {
    /// Lists `root`. `exclude` (absolute paths) are not entered: a workspace inside the dump.
    public static func list(_ root: String, exclude: [String] = []) throws -> DumpListing {
        var st = stat()
        guard stat(root, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw DataError("\(root): not a folder that can be read (\(String(cString: strerror(errno))))")
        }
        var listing = DumpListing()
        var visited: Set<[UInt64]> = [[UInt64(st.st_dev), UInt64(st.st_ino)]]
        // Excluded folders by device and inode: one stat each, not a path comparison per entry.
        let excluded = Set(exclude.compactMap { path -> [UInt64]? in
            var e = stat()
            return stat(path, &e) == 0 ? [UInt64(e.st_dev), UInt64(e.st_ino)] : nil
        })
        // Folders are walked in order, one at a time (which path enters a linked folder first
        // depends on it); the regular files found are examined afterwards, folder by folder on
        // all cores, relative to their folder (no path walked per file).
        var found: [(folder: String, names: [String])] = []
        var stack: [String] = [""]
        while let rel = stack.popLast() {
            let dir = rel.isEmpty ? root : root + "/" + rel
            guard let handle = opendir(FileName.cString(dir)) else {
                listing.problems.append(QuarantineRecord(source: rel + "/", reason: "folder cannot be listed: \(String(cString: strerror(errno)))",
                                                         kind: "unreadable", bytes: nil))
                continue
            }
            defer { closedir(handle) }
            var entries: [(name: String, type: UInt8)] = []
            while let e = readdir(handle) {
                // Whatever its bytes: a name that is not UTF-8 is kept escaped (FileName), never lost.
                let name = withUnsafeBytes(of: e.pointee.d_name) { FileName.string($0.prefix { $0 != 0 }) }
                if name != "." && name != ".." { entries.append((name, e.pointee.d_type)) }
            }
            var regular: [String] = []
            for (name, type) in entries.sorted(by: { $0.name < $1.name }) {
                if type == UInt8(DT_REG) { regular.append(name); continue }
                let child = rel.isEmpty ? name : rel + "/" + name
                let result = examine(dirfd(handle), name)
                if case .success(let entry) = result, entry.st_mode & S_IFMT == S_IFDIR {
                    // Entered once per real folder: a link back up the tree ends here.
                    let node = [UInt64(entry.st_dev), UInt64(entry.st_ino)]
                    if !excluded.contains(node) && visited.insert(node).inserted { stack.append(child) }
                } else {
                    listing.add(child, result)
                }
            }
            if !regular.isEmpty { found.append((rel, regular)) }
        }
        let examined = concurrentMap(found.count) { i -> [(String, Result<stat, DataError>)] in
            let (rel, names) = found[i]
            let fd = open(FileName.cString(rel.isEmpty ? root : root + "/" + rel), O_RDONLY | O_DIRECTORY)
            let failure = fd < 0 ? DataError("cannot be examined: \(String(cString: strerror(errno)))") : nil
            defer { if fd >= 0 { close(fd) } }
            return names.map { name in (rel.isEmpty ? name : rel + "/" + name, failure.map { .failure($0) } ?? examine(fd, name)) }
        }
        for (child, result) in examined.joined() { listing.add(child, result) }
        listing.files.sort { $0.path < $1.path }
        listing.problems.sort { $0.source < $1.source }
        return listing
    }

    /// The status of entry `name` of the open folder `fd`, a symbolic link followed; or why there is none.
    static func examine(_ fd: Int32, _ name: String) -> Result<stat, DataError> {
        var entry = stat()
        let name = FileName.cString(name)
        guard fstatat(fd, name, &entry, AT_SYMLINK_NOFOLLOW) == 0 else { return .failure(DataError("cannot be examined: \(String(cString: strerror(errno)))")) }
        if (entry.st_mode & S_IFMT) == S_IFLNK {
            guard fstatat(fd, name, &entry, 0) == 0 else { return .failure(DataError("broken symbolic link")) }
        }
        return .success(entry)
    }
}
