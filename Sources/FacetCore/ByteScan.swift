import Foundation

/// Lines and CSV rows found in bytes without making strings: how the caches and joins that are
/// read at every run find their records.
public enum ByteScan {
    /// The position of the first `byte` in `bytes` from `start` on (`memchr`), or the end.
    @inlinable
    public static func find(_ byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress, start < bytes.count else { return bytes.count }
        return memchr(base + start, Int32(byte), bytes.count - start).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base } ?? bytes.count
    }

    /// The ranges of the lines of `bytes`, each without its line break; empty lines left out.
    public static func lineRanges(_ bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
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
    public static func csvRowRanges(_ bytes: [UInt8], from start: Int) -> [Range<Int>] {
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
