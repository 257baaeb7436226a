import FacetImage
import Foundation

/// Reads the record types by hand, the mirror of `JSONWriter`: a record type pulls its members
/// straight from the bytes instead of going through `JSONDecoder`'s generic machinery, several
/// times faster. Unknown members are skipped (as `Decodable` does); a missing member, a wrong
/// type or broken JSON throws, and `JSONLines` then decodes the file through `JSONDecoder` to
/// name the line and the problem.
public protocol JSONReadable: Decodable {
    init(_ r: inout JSONReader) throws
}

public struct JSONReader {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let b: UnsafeBufferPointer<UInt8>
    private(set) var i = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { b = bytes }

    /// Reads one `T` from `bytes`, which must hold nothing else but white space.
    public static func read<T: JSONReadable>(_ type: T.Type, _ bytes: UnsafeBufferPointer<UInt8>) throws -> T {
        var r = JSONReader(bytes)
        let v = try T(&r)
        r.space()
        guard r.i == bytes.count else { throw r.fail("text after the value") }
        return v
    }

    func fail(_ what: String) -> Failure { Failure(description: "\(what) at byte \(i)") }

    private mutating func space() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private mutating func take(_ c: UInt8) -> Bool {
        space()
        if i < b.count, b[i] == c { i += 1; return true }
        return false
    }

    private mutating func expect(_ c: UInt8) throws {
        guard take(c) else { throw fail("expected \(Character(Unicode.Scalar(c)))") }
    }

    /// `{ … }`: `member` is called with each key and must read (or `skip`) its value.
    public mutating func object(_ member: (inout JSONReader, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if take(UInt8(ascii: "}")) { return }
        repeat {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// `[ … ]`: `element` is called once per element and must read it.
    public mutating func array(_ element: (inout JSONReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if take(UInt8(ascii: "]")) { return }
        repeat { try element(&self) } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
    }

    /// Consumes `word` if it comes next.
    private mutating func take(_ word: StaticString) -> Bool {
        space()
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count, (0..<n).allSatisfy({ b[i + $0] == word.utf8Start[$0] }) else { return false }
        i += n
        return true
    }

    /// Consumes `null` if it comes next.
    public mutating func null() -> Bool { take("null") }

    public mutating func bool() throws -> Bool {
        if take("true") { return true }
        if take("false") { return false }
        throw fail("expected true or false")
    }

    private mutating func numberText() throws -> String {
        space()
        let start = i
        while i < b.count, (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")
                || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { i += 1 }
        guard i > start else { throw fail("expected a number") }
        return String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
    }

    public mutating func double() throws -> Double {
        let text = try numberText()
        guard let x = Double(text), x.isFinite else { throw fail("\(text) is not a number") }
        return x
    }

    public mutating func int() throws -> Int {
        let text = try numberText()
        guard let x = Int(text) else { throw fail("\(text) is not a whole number") }
        return x
    }

    public mutating func uint64() throws -> UInt64 {
        let text = try numberText()
        guard let x = UInt64(text) else { throw fail("\(text) is not a whole number ≥ 0") }
        return x
    }

    /// A string enum's case.
    public mutating func raw<T: RawRepresentable>(_ type: T.Type) throws -> T where T.RawValue == String {
        let name = try string()
        guard let v = T(rawValue: name) else { throw fail("unknown \(T.self) \(name)") }
        return v
    }

    /// Base64 text, as `JSONEncoder` writes `Data`.
    public mutating func data() throws -> Data {
        // Decoded straight from the bytes when the string has no escapes (as JSONLines writes it).
        try expect(UInt8(ascii: "\""))
        let start = i
        while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\") { i += 1 }
        if i < b.count, b[i] == UInt8(ascii: "\""), let d = Base64.decode(UnsafeBufferPointer(rebasing: b[start..<i])) {
            i += 1
            return d
        }
        i = start - 1
        let text = try string()
        guard let d = Data(base64Encoded: text) else { throw fail("not base64") }
        return d
    }

    public mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = i
        var ascii = true
        while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\"), b[i] >= 0x20 { ascii = ascii && b[i] < 0x80; i += 1 }
        guard i < b.count else { throw fail("unterminated string") }
        if b[i] == UInt8(ascii: "\"") {
            defer { i += 1 }
            let text = UnsafeBufferPointer(rebasing: b[start..<i])
            if ascii { return String(decoding: text, as: UTF8.self) }  // nothing to validate
            guard let s = String(validating: text, as: UTF8.self) else {
                throw fail("a string that is not UTF-8")
            }
            return s
        }
        var out = Array(b[start..<i])
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            i += 1
            if c == UInt8(ascii: "\"") { break }
            guard c >= 0x20 else { throw fail("a control character in a string") }
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard i < b.count else { throw fail("unterminated string") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 2 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else { throw fail("a lone surrogate") }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("a lone surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("an invalid \\u escape") }
                out += Array(String(Character(u)).utf8)
            default: throw fail("an invalid escape")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("a string that is not UTF-8") }
        return s
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw fail("a short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            i += 1
            switch c {
            case 0x30...0x39: v = v << 4 | UInt32(c - 0x30)
            case 0x61...0x66: v = v << 4 | UInt32(c - 0x61 + 10)
            case 0x41...0x46: v = v << 4 | UInt32(c - 0x41 + 10)
            default: throw fail("a bad \\u escape")
            }
        }
        return v
    }

    public mutating func strings() throws -> [String] {
        var out: [String] = []
        try array { out.append(try $0.string()) }
        return out
    }

    public mutating func doubles() throws -> [Double] {
        var out: [Double] = []
        try array { out.append(try $0.double()) }
        return out
    }

    public mutating func items<T: JSONReadable>(_ type: T.Type) throws -> [T] {
        var out: [T] = []
        try array { out.append(try T(&$0)) }
        return out
    }

    // Optionals: null reads as nil (an absent member stays nil in the caller).
    public mutating func optionalString() throws -> String? { null() ? nil : try string() }
    public mutating func optionalDouble() throws -> Double? { null() ? nil : try double() }
    public mutating func optionalInt() throws -> Int? { null() ? nil : try int() }
    public mutating func optionalStrings() throws -> [String]? { null() ? nil : try strings() }

    /// Skips any value.
    public mutating func skip() throws {
        space()
        guard i < b.count else { throw fail("expected a value") }
        switch b[i] {
        case UInt8(ascii: "{"): try object { r, _ in try r.skip() }
        case UInt8(ascii: "["): try array { try $0.skip() }
        case UInt8(ascii: "\""):
            // Over the string without making one: to the closing quote, escapes stepped over.
            i += 1
            while i < b.count, b[i] != UInt8(ascii: "\"") {
                guard b[i] >= 0x20 else { throw fail("a control character in a string") }
                i += b[i] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard i < b.count else { throw fail("unterminated string") }
            i += 1
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): guard null() else { throw fail("expected a value") }
        default: _ = try numberText()
        }
    }

    /// The member `name` was absent: an error.
    public func missing(_ name: String) -> Failure { Failure(description: "missing key \"\(name)\"") }
}

/// Unwraps a required member.
public func required<T>(_ v: T?, _ name: String, _ r: JSONReader) throws -> T {
    guard let v else { throw r.missing(name) }
    return v
}

/// Standard base64 (with `=` padding), decoded from bytes.
enum Base64 {
    private static let values: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (v, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = UInt8(v) }
        return t
    }()

    /// The bytes `text` encodes, or nil when it is not padded base64.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> Data? {
        guard text.count % 4 == 0 else { return nil }
        let padding = text.count == 0 ? 0 : text[text.count - 1] != UInt8(ascii: "=") ? 0 : text[text.count - 2] == UInt8(ascii: "=") ? 2 : 1
        var out = Data(count: text.count / 4 * 3 - padding)
        let ok = values.withUnsafeBufferPointer { values in
            out.withUnsafeMutableBytes { (o: UnsafeMutableRawBufferPointer) -> Bool in
                var j = 0
                for q in stride(from: 0, to: text.count, by: 4) {
                    let last = q + 4 == text.count
                    let a = values[Int(text[q])], b = values[Int(text[q + 1])]
                    let c = last && padding == 2 ? 0 : values[Int(text[q + 2])], d = last && padding >= 1 ? 0 : values[Int(text[q + 3])]
                    guard (a | b | c | d) & 0xC0 == 0 else { return false }
                    let n = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    o[j] = UInt8(n >> 16)
                    if j + 1 < o.count { o[j + 1] = UInt8(n >> 8 & 0xFF) }
                    if j + 2 < o.count { o[j + 2] = UInt8(n & 0xFF) }
                    j += 3
                }
                return true
            }
        }
        return ok ? out : nil
    }
}
