import FacetData
import Foundation

extension Shards {
    /// Where a line of a join comes from: a line of the previous join, or a line of a chunk added.
    enum Origin: Equatable {
        case previous(Int)
        case added(chunk: Int, line: Int)
    }

    /// A join brought up to date from the chunks that changed, rather than made again from all.
    /// `previous` is what `sortedLines(_:by:)` made of the chunks before; `removed` are the chunks
    /// of it that went, `added` those that came. Returns the lines of `previous` less those of
    /// `removed`, with those of `added` in order of `key`, where each line came from, and how many
    /// lines `previous` had: what
    /// `sortedLines` would make of the chunks now, whenever no added line shares its key with a
    /// line kept or added (then the order is the keys' alone). That is checked, as is every
    /// removed line being found in `previous`; nil when either fails, and the caller joins in full.
    ///
    /// - Complexity: the lines of the changed chunks, times the logarithm of the join's; plus one
    ///   scan of `previous` for line breaks and one copy.
    static func updatedLines(_ previous: [UInt8], removing removed: [[UInt8]], adding added: [[UInt8]],
                             by key: String) -> (bytes: [UInt8], origins: [Origin], previousLines: Int)? {
        let marker = Array("\"\(key)\":\"".utf8)
        return previous.withUnsafeBufferPointer { prev -> (bytes: [UInt8], origins: [Origin], previousLines: Int)? in
            let lines = lineRanges(prev)
            guard lines.last.map({ $0.upperBound == prev.count - 1 }) ?? prev.isEmpty else { return nil }
            var keys: [String?] = Array(repeating: nil, count: lines.count)
            func keyOf(_ i: Int) -> String? {
                if let k = keys[i] { return k }
                keys[i] = lastString(UnsafeBufferPointer(rebasing: prev[lines[i]]), marker: marker)
                return keys[i]
            }
            /// The first previous line whose key is not below `k` (nil: a line without the key).
            func lowerBound(_ k: String) -> Int? {
                var lo = 0, hi = lines.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    guard let m = keyOf(mid) else { return nil }
                    if m < k { lo = mid + 1 } else { hi = mid }
                }
                return lo
            }
            /// Whether previous line `range` holds the bytes of `line` (memcmp: a generic byte-by-byte
            /// comparison of lines of half a kilobyte was a visible part of an update).
            func same(_ range: Range<Int>, _ line: ArraySlice<UInt8>) -> Bool {
                range.count == line.count && line.withUnsafeBufferPointer { memcmp(prev.baseAddress! + range.lowerBound, $0.baseAddress!, range.count) == 0 }
            }
            var gone = Set<Int>()
            for chunk in removed {
                for line in chunk.split(separator: 0x0A) {
                    guard let k = line.withUnsafeBufferPointer({ lastString($0, marker: marker) }), var i = lowerBound(k) else { return nil }
                    while i < lines.count, keyOf(i) == k, gone.contains(i) || !same(lines[i], line) { i += 1 }
                    guard i < lines.count, keyOf(i) == k else { return nil }
                    gone.insert(i)
                }
            }
            typealias New = (key: String, chunk: Int, line: Int, bytes: ArraySlice<UInt8>)
            var new: [New] = []
            for (c, chunk) in added.enumerated() {
                for (l, line) in chunk.split(separator: 0x0A).enumerated() {
                    guard let k = line.withUnsafeBufferPointer({ lastString($0, marker: marker) }) else { return nil }
                    new.append((k, c, l, line))
                }
            }
            new.sort { $0.key < $1.key }
            var out: [UInt8] = [], origins: [Origin] = []
            out.reserveCapacity(prev.count + added.reduce(0) { $0 + $1.count })
            origins.reserveCapacity(lines.count + new.count)
            var next = 0
            func keep(upTo end: Int) {
                while next < end {
                    if !gone.contains(next) {
                        out += UnsafeBufferPointer(rebasing: prev[lines[next]])
                        out.append(0x0A)
                        origins.append(.previous(next))
                    }
                    next += 1
                }
            }
            for (j, n) in new.enumerated() {
                if j > 0 && new[j - 1].key == n.key { return nil }
                guard let at = lowerBound(n.key) else { return nil }
                var i = at
                while i < lines.count, keyOf(i) == n.key {
                    guard gone.contains(i) else { return nil }
                    i += 1
                }
                keep(upTo: at)
                out += n.bytes
                out.append(0x0A)
                origins.append(.added(chunk: n.chunk, line: n.line))
            }
            keep(upTo: lines.count)
            return (out, origins, lines.count)
        }
    }

    /// The position of the first `byte` in `bytes` from `start` on (`memchr`), or the end.
    @inline(__always)
    static func find(_ byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress, start < bytes.count else { return bytes.count }
        return memchr(base + start, Int32(byte), bytes.count - start).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base } ?? bytes.count
    }

    /// The ranges of the lines of `bytes`, each without its line break; empty lines left out.
    static func lineRanges(_ bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        while start < bytes.count {
            let end = find(0x0A, in: bytes, from: start)
            if end > start { out.append(start..<end) }
            start = end + 1
        }
        return out
    }

    /// The ranges of the rows of a CSV file from `start` on, each with its line break: a row ends at
    /// a line break outside quotes (a quoted field may hold one; its inner quotes come doubled).
    /// A row without a quote is found whole by `memchr`; one with quotes is walked byte by byte.
    static func csvRowRanges(_ bytes: [UInt8], from start: Int) -> [Range<Int>] {
        var out: [Range<Int>] = []
        bytes.withUnsafeBufferPointer { b in
            let n = b.count
            var rowStart = start, i = start, quoted = false
            while i < n {
                // At a row's start: the next line break ends the row when no quote comes before it.
                let end = find(0x0A, in: b, from: i)
                if find(UInt8(ascii: "\""), in: UnsafeBufferPointer(rebasing: b[..<end]), from: i) == end {
                    if end < n { out.append(rowStart..<(end + 1)); rowStart = end + 1 }
                    i = end + 1
                    continue
                }
                // Quotes in the row: to its first line break outside them.
                while i < n {
                    let c = b[i]
                    i += 1
                    if c == UInt8(ascii: "\"") { quoted.toggle() } else if c == 0x0A && !quoted { out.append(rowStart..<i); rowStart = i; break }
                }
            }
            if rowStart < n { out.append(rowStart..<n) }
        }
        return out
    }
}
