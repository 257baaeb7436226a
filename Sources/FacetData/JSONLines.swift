import FacetCore
import FacetImage
import Foundation
import Synchronization

/// JSON Lines files: one object per line, keys sorted, written atomically.
public enum JSONLines {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func encode<T: Encodable>(_ value: T) throws -> String {
        var out: [UInt8] = []
        try append(value, to: &out, encoder: nil)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `value`'s JSON to `out`: written by hand for the record types (`JSONWritable`),
    /// through `JSONEncoder` for the rest; the bytes are the same either way.
    public static func append<T: Encodable>(_ value: T, to out: inout [UInt8], encoder: JSONEncoder?) throws {
        guard let v = value as? any JSONWritable else {
            out += try (encoder ?? Self.encoder()).encode(value)
            return
        }
        var w = JSONWriter()
        swap(&w.bytes, &out)
        v.write(&w)
        swap(&w.bytes, &out)
        if !w.finite { throw DataError("cannot encode \(T.self): a number is not finite") }
    }

    /// Writes `items` to `path` through a temporary file and a rename.
    public static func write<T: Encodable>(_ items: [T], to path: String) throws {
        let e = encoder()
        var out: [UInt8] = []
        for item in items {
            try append(item, to: &out, encoder: e)
            out.append(0x0A)
        }
        try AtomicFile.write(out, to: path)
    }

    /// Reads every line of `path`; a line that does not parse is an error naming the file and line.
    public static func read<T: Decodable>(_ type: T.Type, from path: String) throws -> [T] {
        try decode(type, [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), name: path)
    }

    /// Decodes JSON Lines bytes (`name` is the file named in errors).
    public static func decode<T: Decodable>(_ type: T.Type, _ data: [UInt8], name path: String) throws -> [T] {
        // Fastest path: the record types read by hand, line by line.
        if let readable = T.self as? any (JSONReadable & Sendable).Type, let items = try? readLines(readable, data) {
            return items as! [T]
        }
        // Fast path: the lines as one JSON array, parsed in one go; on any failure the slow path
        // below finds the line to blame.
        var bytes = [UInt8]()
        bytes.reserveCapacity(data.count + 2)
        bytes.append(UInt8(ascii: "["))
        var first = true
        for line in data.split(separator: 0x0A) where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            bytes += line
            first = false
        }
        bytes.append(UInt8(ascii: "]"))
        if let items = try? JSONDecoder().decode([T].self, from: Data(bytes)) { return items }
        let decoder = JSONDecoder()
        var items: [T] = []
        var line = 0
        for slice in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            line += 1
            if slice.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
            do {
                items.append(try decoder.decode(T.self, from: Data(slice)))
            } catch {
                throw DataError("\(path):\(line): not a valid \(T.self) record: \(Self.describe(error))")
            }
        }
        return items
    }

    /// Every non-blank line of `data` read by hand; throws at the first that does not read.
    public static func readLines<R: JSONReadable & Sendable>(_ type: R.Type, _ data: [UInt8]) throws -> [R] {
        try data.withUnsafeBufferPointer { try readEach(R.self, $0).map { try $0.get() } }
    }

    /// Each non-blank line of `all` read by hand, in blocks of lines on all cores: the item or
    /// why it does not read, in line order.
    public static func readEach<R: JSONReadable & Sendable>(_ type: R.Type, _ all: UnsafeBufferPointer<UInt8>) -> [Result<R, any Error>] {
        var lines: [Range<Int>] = []
        var start = 0
        while start < all.count, let base = all.baseAddress {
            var end = all.count
            if let found = memchr(base + start, 0x0A, all.count - start) {
                end = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
            }
            if !all[start..<end].allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { lines.append(start..<end) }
            start = end + 1
        }
        var out = [Result<R, any Error>?](repeating: nil, count: lines.count)
        out.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let (out, all) = (out, all)
            let (lines, block) = (lines, 128)
            DispatchQueue.concurrentPerform(iterations: (lines.count + block - 1) / block) { b in
                for i in b * block..<min(lines.count, (b + 1) * block) {
                    out[i] = Result { try JSONReader.read(R.self, UnsafeBufferPointer(rebasing: all[lines[i]])) }
                }
            }
        }
        return out.map { $0! }
    }

    /// Appends whole lines to a JSON Lines file, from any thread, each call in one write. The
    /// first write of an appender starts on a line of its own (a line cut short by a kill ends
    /// there, and readers skip it and the blank line that may follow).
    public final class Appender: Sendable {
        private let handle = Mutex<FileHandle?>(nil)
        public let path: String

        public init(_ path: String) { self.path = path }

        /// Appends `lines`, each ending in a newline.
        public func append(_ lines: [UInt8]) throws {
            try handle.withLock { h in
                if h == nil {
                    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    if !FileSystem.exists(path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
                    guard let opened = FileHandle(forWritingAtPath: path) else { throw DataError("\(path): cannot be written") }
                    if try opened.seekToEnd() > 0 { try opened.write(contentsOf: Data([0x0A])) }
                    h = opened
                }
                try h!.write(contentsOf: Data(lines))
            }
        }

        /// Appends `item` as one line.
        public func append<T: Encodable>(_ item: T) throws { try append(Array((try JSONLines.encode(item) + "\n").utf8)) }

        public func close() throws { try handle.withLock { try $0?.close(); $0 = nil } }
    }

    /// JSON Lines bytes of `items` (keys sorted, one object a line), encoded in chunks on all cores.
    public static func encodeLines<T: Encodable & Sendable>(_ items: [T]) throws -> [UInt8] {
        let chunks = items.count < 256 ? 1 : ProcessInfo.processInfo.activeProcessorCount * 2
        let size = (items.count + chunks - 1) / max(chunks, 1)
        let parts = Mutex([[UInt8]?](repeating: nil, count: chunks))
        let failure = Mutex<String?>(nil)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let e = encoder()
            var out = [UInt8]()
            do {
                for item in items[min(c * size, items.count)..<min((c + 1) * size, items.count)] {
                    try append(item, to: &out, encoder: e)
                    out.append(0x0A)
                }
                parts.withLock { $0[c] = out }
            } catch {
                failure.withLock { $0 = $0 ?? "\(error)" }
            }
        }
        if let message = failure.withLock({ $0 }) { throw DataError("cannot encode \(T.self): \(message)") }
        return parts.withLock { $0.flatMap { $0! } }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing key \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let c): c.debugDescription
        default: "\(error)"
        }
    }
}

/// An error in the data stages, with a message that names the file and the problem.
public struct DataError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
