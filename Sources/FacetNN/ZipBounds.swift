import Foundation

/// A zip archive's directory checked against the file's size before ZIPFoundation reads it.
/// ZIPFoundation 0.9.20 converts offsets and sizes from the file to signed integers unchecked, so
/// a crafted central directory (a ZIP64 offset over 2^63, say) stops the process; the fuzzer
/// found it. Here every offset and size it will use is read as the zip format defines it
/// (APPNOTE 4.3: the end of central directory record, its ZIP64 form, each central directory
/// entry with its ZIP64 extra field, each local header) and must lie inside the file.
enum ZipBounds {
    /// Why `path` (of `size` bytes, open in `handle`) cannot be handed to the zip reader, or nil.
    static func problem(_ handle: FileHandle, size: UInt64) -> String? {
        func read(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard offset <= size, UInt64(count) <= size - offset else { return nil }
            guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.read(upToCount: count), data.count == count else { return nil }
            return [UInt8](data)
        }
        func u(_ b: [UInt8], _ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) } }

        // The end of central directory record: 22 bytes and a comment of at most 65,535.
        let tailSize = Int(min(size, 22 + 65_535))
        guard let tail = read(size - UInt64(tailSize), tailSize) else { return "cannot be read" }
        guard let at = stride(from: tailSize - 22, through: 0, by: -1).first(where: { tail[$0..<$0 + 4] == [0x50, 0x4B, 0x05, 0x06] }) else {
            return "no end of central directory record"
        }
        let eocd = size - UInt64(tailSize) + UInt64(at)
        var entries = u(tail, at + 10, 2), cdSize = u(tail, at + 12, 4), cdOffset = u(tail, at + 16, 4)
        if entries == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            guard eocd >= 20, let locator = read(eocd - 20, 20), locator[0..<4] == [0x50, 0x4B, 0x06, 0x07] else {
                return "a ZIP64 archive without its locator"
            }
            guard let z = read(u(locator, 8, 8), 56), z[0..<4] == [0x50, 0x4B, 0x06, 0x06] else { return "a ZIP64 end record outside the file" }
            (entries, cdSize, cdOffset) = (u(z, 32, 8), u(z, 40, 8), u(z, 48, 8))
        }
        guard cdOffset <= size, cdSize <= size - cdOffset else { return "a central directory outside the file" }
        guard entries <= cdSize / 46 else { return "\(entries) entries in a central directory of \(cdSize) bytes" }
        guard let cd = read(cdOffset, Int(cdSize)) else { return "a central directory that cannot be read" }
        var p = 0
        for _ in 0..<entries {
            guard p + 46 <= cd.count, cd[p..<p + 4] == [0x50, 0x4B, 0x01, 0x02] else { return "a damaged central directory entry" }
            let nameLength = Int(u(cd, p + 28, 2)), extraLength = Int(u(cd, p + 30, 2)), commentLength = Int(u(cd, p + 32, 2))
            guard p + 46 + nameLength + extraLength + commentLength <= cd.count else { return "a central directory entry past its directory" }
            var compressed = u(cd, p + 20, 4), uncompressed = u(cd, p + 24, 4), local = u(cd, p + 42, 4)
            // ZIP64 extra field (id 1): the 64-bit forms of the fields that hold 0xFFFFFFFF, in this order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u(cd, e, 2), length = Int(u(cd, e + 2, 2))
                guard e + 4 + length <= extraEnd else { return "a damaged extra field" }
                if id == 1 {
                    var q = e + 4
                    /// The 64-bit form of `field` when it holds 0xFFFFFFFF; false when the extra field runs short.
                    func widen(_ field: inout UInt64) -> Bool {
                        guard field == 0xFFFF_FFFF else { return true }
                        guard q + 8 <= e + 4 + length else { return false }
                        field = u(cd, q, 8)
                        q += 8
                        return true
                    }
                    guard widen(&uncompressed), widen(&compressed), widen(&local) else { return "a short ZIP64 field" }
                }
                e += 4 + length
            }
            guard uncompressed <= UInt64(Int64.max) else { return "an entry of \(uncompressed) bytes" }
            guard local <= size, 30 <= size - local, let header = read(local, 30), header[0..<4] == [0x50, 0x4B, 0x03, 0x04] else {
                return "an entry whose local header lies outside the file"
            }
            let dataStart = local + 30 + u(header, 26, 2) + u(header, 28, 2)
            guard dataStart <= size, compressed <= size - dataStart else { return "an entry whose data runs past the end of the file" }
            p += 46 + nameLength + extraLength + commentLength
        }
        return nil
    }
}
