import FacetCore
import FacetData
import FacetImage
import Foundation

/// The workspace's content-addressed store: every stage output is a file named by the SHA-256 of
/// its bytes, under `WORKSPACE/store/ab/abcdef…`. An object is written to a temporary file and
/// renamed into place, so an object that exists is complete.
public struct Store: Sendable {
    public let folder: String

    public init(workspace: String) { folder = workspace + "/store" }

    public static func hash(_ bytes: [UInt8]) -> String {
        Analyzer.sha256(bytes)
    }

    public func path(_ hash: String) -> String { "\(folder)/\(hash.prefix(2))/\(hash)" }

    public func has(_ hash: String) -> Bool { FileSystem.exists(path(hash)) }

    /// Stores `bytes` (once: an object already there is not written again) and returns its hash.
    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> String {
        let h = Store.hash(bytes)
        // Not fsynced: an object is checked against its name when read as records, and images are
        // written by the thousand (an fsync each cost about a quarter of `facet augment`'s time).
        if !has(h) { try AtomicFile.write(bytes, to: path(h), durable: false) }
        return h
    }

    public func get(_ hash: String) throws -> [UInt8] {
        guard let bytes = FileSystem.read(path(hash)) else {
            throw DataError("\(path(hash)): missing from the store; run facet run again to rebuild it")
        }
        guard Store.hash(bytes) == hash else { throw DataError("\(path(hash)): damaged (its bytes no longer match its name); delete it and run again") }
        return bytes
    }

    /// The objects' bytes, read and checked on all cores (a stage joining its shards reads hundreds).
    public func get(_ hashes: [String]) throws -> [[UInt8]] {
        try concurrentMap(hashes.count, block: 32) { i in Result { try get(hashes[i]) } }.map { try $0.get() }
    }

    public func putLines<T: Encodable & Sendable>(_ items: [T]) throws -> String {
        try put(try JSONLines.encodeLines(items))
    }

    public func lines<T: Decodable>(_ type: T.Type, _ hash: String) throws -> [T] {
        try JSONLines.decode(type, try get(hash), name: path(hash))
    }

    /// Makes `target` hold the object's bytes: a hard link where the file system allows, else a copy.
    public func materialize(_ hash: String, at target: String) throws {
        if link(path(hash), target) == 0 { return }
        try FileManager.default.copyItem(atPath: path(hash), toPath: target)
    }
}
