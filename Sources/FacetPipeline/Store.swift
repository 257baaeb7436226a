import FacetData
import FacetImage
import Foundation
import Synchronization

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

    public func has(_ hash: String) -> Bool { FileManager.default.fileExists(atPath: path(hash)) }

    /// Stores `bytes` (once: an object already there is not written again) and returns its hash.
    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> String {
        let h = Store.hash(bytes)
        if !has(h) { try AtomicFile.write(bytes, to: path(h)) }
        return h
    }

    public func get(_ hash: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(hash)) else {
            throw DataError("\(path(hash)): missing from the store; run facet run again to rebuild it")
        }
        let bytes = [UInt8](data)
        guard Store.hash(bytes) == hash else { throw DataError("\(path(hash)): damaged (its bytes no longer match its name); delete it and run again") }
        return bytes
    }

    public func putLines<T: Encodable & Sendable>(_ items: [T]) throws -> String {
        try put(try Store.encodeLines(items))
    }

    /// JSON Lines bytes of `items` (keys sorted), encoded in a few chunks on all cores.
    static func encodeLines<T: Encodable & Sendable>(_ items: [T]) throws -> [UInt8] {
        let chunks = items.count < 256 ? 1 : ProcessInfo.processInfo.activeProcessorCount * 2
        let size = (items.count + chunks - 1) / max(chunks, 1)
        let parts = Mutex([[UInt8]?](repeating: nil, count: chunks))
        let failure = Mutex<Error?>(nil)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let encoder = JSONLines.encoder()
            var out = [UInt8]()
            do {
                for item in items[min(c * size, items.count)..<min((c + 1) * size, items.count)] {
                    out += try encoder.encode(item)
                    out.append(0x0A)
                }
                parts.withLock { $0[c] = out }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return parts.withLock { $0.flatMap { $0! } }
    }

    public func lines<T: Decodable>(_ type: T.Type, _ hash: String) throws -> [T] {
        let bytes = try get(hash)
        let decoder = JSONDecoder()
        return try bytes.split(separator: 0x0A).enumerated().map { i, line in
            do { return try decoder.decode(T.self, from: Data(line)) } catch {
                throw DataError("\(path(hash)):\(i + 1): not a \(T.self) record")
            }
        }
    }

    /// Makes `target` hold the object's bytes: a hard link where the file system allows, else a copy.
    public func materialize(_ hash: String, at target: String) throws {
        if link(path(hash), target) == 0 { return }
        try FileManager.default.copyItem(atPath: path(hash), toPath: target)
    }
}
