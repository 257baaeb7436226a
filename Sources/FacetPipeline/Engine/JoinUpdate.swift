import FacetCore
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
            let lines = ByteScan.lineRanges(prev)
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
}
