import FacetCore
import FacetData
import FacetImage
import Foundation

/// What the dataset folder looked like when a run last left it complete: its manifest's hash,
/// the manifest file's identity (inode, size, modification time) and every folder's modification
/// time. Adding, removing or renaming an image changes its folder's time, so while all of these
/// match, every image the manifest lists is still there: a run need not read the manifest and
/// look for each image (a third of a no-op run on a dump of 3,665 photos).
///
/// A folder's time is as fine as the kernel's clock tick: a change made in the same tick as the
/// stamp would keep it. So no stamp is written while any of these times is under two seconds
/// old; the next run checks the images one by one instead, and stamps them then.
///
/// `WORKSPACE/cache/dataset.stamp`: the manifest's hash, then a line per path (the manifest,
/// then the folders, relative to the dataset) with its identity, tab-separated.
struct DatasetStamp: Equatable {
    var manifestHash: String
    var entries: [String]

    static func path(_ workspace: String) -> String { workspace + "/cache/dataset.stamp" }

    /// The stamp of dataset folder `folder` now, taken as holding the manifest `hash`; nil when
    /// it cannot be taken or is too recent to be trusted.
    static func take(_ folder: String, manifestHash hash: String) -> DatasetStamp? {
        var entries: [String] = []
        var pending = [""]
        let recent = Int64(Date().timeIntervalSince1970 * 1e9) - 2_000_000_000
        guard let manifest = identity(folder + "/manifest.jsonl", recentAfter: recent) else { return nil }
        entries.append("manifest.jsonl\t" + manifest)
        while let rel = pending.popLast() {
            let dir = rel.isEmpty ? folder : folder + "/" + rel
            guard let id = identity(dir, recentAfter: recent), let handle = opendir(dir) else { return nil }
            defer { closedir(handle) }
            entries.append(rel + "/\t" + id)
            while let e = readdir(handle) {
                guard e.pointee.d_type == UInt8(DT_DIR) || e.pointee.d_type == UInt8(DT_UNKNOWN) else { continue }
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
                guard name != "." && name != ".." else { continue }
                let child = rel.isEmpty ? name : rel + "/" + name
                var st = stat()
                if lstat(folder + "/" + child, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { pending.append(child) }
            }
        }
        return DatasetStamp(manifestHash: hash, entries: entries.sorted())
    }

    /// Whether `folder` still looks as it did when stamped.
    func matches(_ folder: String) -> Bool {
        entries.allSatisfy { line in
            guard let tab = line.firstIndex(of: "\t") else { return false }
            let rel = String(line[..<tab])
            let path = rel == "/" ? folder : folder + "/" + (rel.hasSuffix("/") ? String(rel.dropLast()) : rel)
            return Self.identity(path, recentAfter: .max).map { $0 == line[line.index(after: tab)...] } ?? false
        }
    }

    /// "inode size mtime-in-ns" of `path`, nil when it cannot be read or was changed after `recentAfter`.
    static func identity(_ path: String, recentAfter: Int64) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        guard mtime < recentAfter else { return nil }
        return "\(st.st_ino) \(st.st_size) \(mtime)"
    }

    static func read(_ workspace: String) -> DatasetStamp? {
        guard let bytes = FileSystem.read(path(workspace)) else { return nil }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        guard let hash = lines.first, hash.utf8.count == 64, lines.count > 2 else { return nil }
        return DatasetStamp(manifestHash: hash, entries: Array(lines.dropFirst()))
    }

    func write(_ workspace: String) throws {
        try CacheFile.write(Array(([manifestHash] + entries).joined(separator: "\n").utf8) + [0x0A], to: Self.path(workspace))
    }
}
