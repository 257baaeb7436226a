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
    }
    public var files: [File] = []
    /// Entries that are not usable files: unreadable folders, broken links, devices, …
    public var problems: [QuarantineRecord] = []
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
        var stack: [String] = [""]
        while let rel = stack.popLast() {
            let dir = rel.isEmpty ? root : root + "/" + rel
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: dir)
            } catch {
                listing.problems.append(QuarantineRecord(source: rel + "/", reason: "folder cannot be listed: \(reason(error))",
                                                         kind: "unreadable", bytes: nil))
                continue
            }
            for name in names.sorted() {
                let child = rel.isEmpty ? name : rel + "/" + name
                let full = root + "/" + child
                var entry = stat()
                guard lstat(full, &entry) == 0 else {
                    listing.problems.append(QuarantineRecord(source: child, reason: "cannot be examined: \(String(cString: strerror(errno)))",
                                                             kind: "unreadable", bytes: nil))
                    continue
                }
                if (entry.st_mode & S_IFMT) == S_IFLNK {
                    guard stat(full, &entry) == 0 else {
                        listing.problems.append(QuarantineRecord(source: child, reason: "broken symbolic link", kind: "unreadable", bytes: nil))
                        continue
                    }
                }
                switch entry.st_mode & S_IFMT {
                case S_IFDIR:
                    // Entered once per real folder: a link back up the tree ends here.
                    let node = [UInt64(entry.st_dev), UInt64(entry.st_ino)]
                    if !excluded.contains(node) && visited.insert(node).inserted { stack.append(child) }
                case S_IFREG:
                    let mtime = Int64(entry.st_mtim.tv_sec) * 1_000_000_000 + Int64(entry.st_mtim.tv_nsec)
                    listing.files.append(DumpListing.File(path: child, size: Int(entry.st_size), mtime: mtime))
                default:
                    listing.problems.append(QuarantineRecord(source: child, reason: "not a regular file (device, pipe or socket)",
                                                             kind: "unreadable", bytes: nil))
                }
            }
        }
        listing.files.sort { $0.path < $1.path }
        listing.problems.sort { $0.source < $1.source }
        return listing
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.localizedDescription
    }
}
