import Foundation

/// Length-prefixed binary records for the caches a run reads whole: each record is its payload's
/// length (UInt32), the payload and a 64-bit checksum of it, little-endian. A record cut short
/// (a write killed midway) or whose checksum fails ends the readable part of a file; what came
/// before it is kept.
public enum BinaryRecords {
    /// The payloads of the records in `bytes[start...]`, and where the readable part ends. The
    /// records are found by their lengths first, then their checksums tested on all cores (a cache
    /// of 3,942 analyses is 5 MB); the readable part ends before the first record cut short or failing.
    public static func split(_ bytes: [UInt8], from start: Int) -> (payloads: [Range<Int>], end: Int) {
        var found: [Range<Int>] = []
        var at = start
        bytes.withUnsafeBytes { b in
            while at + 4 <= b.count {
                let n = Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                let payload = (at + 4)..<(at + 4 + n)
                guard payload.upperBound + 8 <= b.count else { break }
                found.append(payload)
                at = payload.upperBound + 8
            }
        }
        let sound = bytes.withUnsafeBytes { b in
            nonisolated(unsafe) let b = b
            return concurrentMap(found.count, block: 256) { i in
                UInt64(littleEndian: b.loadUnaligned(fromByteOffset: found[i].upperBound, as: UInt64.self))
                    == checksum(UnsafeRawBufferPointer(rebasing: b[found[i]]))
            }
        }
        guard let bad = sound.firstIndex(of: false) else { return (found, at) }
        return (Array(found[..<bad]), found[bad].lowerBound - 4)
    }

    /// Appends one record holding `payload` to `out`.
    public static func append(_ payload: [UInt8], to out: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { out += $0 }
        out += payload
        payload.withUnsafeBytes { p in withUnsafeBytes(of: checksum(p).littleEndian) { out += $0 } }
    }

    /// A 64-bit hash of the bytes, eight at a time (multiply and fold): it catches torn and
    /// damaged records, not tampering.
    public static func checksum(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(p.count)
        var i = 0
        while i + 8 <= p.count {
            h = (h ^ UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        for j in i..<p.count { tail |= UInt64(p[j]) << (8 * UInt64(j - i)) }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 32)
    }
}

/// Writes the fields of one binary record.
public struct BinaryWriter {
    public var bytes: [UInt8] = []
    public init() {}

    public mutating func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { bytes += $0 } }
    public mutating func uint64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    public mutating func double(_ v: Double) { uint64(v.bitPattern) }
    public mutating func byte(_ v: UInt8) { bytes.append(v) }
    public mutating func raw(_ v: some Collection<UInt8>) { int(v.count); bytes += v }
    public mutating func string(_ v: String) { raw(v.utf8) }

    public mutating func optional<T>(_ v: T?, _ write: (inout BinaryWriter, T) -> Void) {
        byte(v == nil ? 0 : 1)
        if let v { write(&self, v) }
    }
}

/// Reads the fields of one binary record, in the order they were written; every read is
/// bounds-checked, and a record that runs short or holds an impossible value throws.
public struct BinaryReader {
    public struct Malformed: Error { public init() {} }

    private let bytes: UnsafeRawBufferPointer
    private var at: Int

    public init(_ bytes: UnsafeRawBufferPointer) { (self.bytes, at) = (bytes, 0) }

    public var atEnd: Bool { at == bytes.count }

    private mutating func take(_ n: Int) throws(Malformed) -> Range<Int> {
        guard n >= 0, n <= bytes.count - at else { throw Malformed() }
        defer { at += n }
        return at..<(at + n)
    }

    public mutating func uint64() throws(Malformed) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(8).lowerBound, as: UInt64.self))
    }
    public mutating func int() throws(Malformed) -> Int { Int(Int64(bitPattern: try uint64())) }
    public mutating func double() throws(Malformed) -> Double { Double(bitPattern: try uint64()) }
    public mutating func byte() throws(Malformed) -> UInt8 { bytes[try take(1).lowerBound] }
    public mutating func raw() throws(Malformed) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[try take(try int())]) }
    public mutating func string() throws(Malformed) -> String { String(decoding: try raw(), as: UTF8.self) }

    public mutating func optional<T>(_ read: (inout BinaryReader) throws(Malformed) -> T) throws(Malformed) -> T? {
        switch try byte() {
        case 0: return nil
        case 1: return try read(&self)
        default: throw Malformed()
        }
    }
}
