/// Bytes of JSON written by hand for the records every stage writes thousands of: several times
/// faster than `JSONEncoder`, whose generic machinery dominates a stage that only tags or labels.
/// What comes out is byte for byte what `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`
/// writes: members in UTF-8 key order, absent optionals left out, numbers as Foundation prints
/// them (tested on random records against Foundation's own output).
public protocol JSONWritable: Encodable {
    func write(_ w: inout JSONWriter)
}

public struct JSONWriter {
    public var bytes: [UInt8] = []
    private var first = true

    public init() {}

    /// `{ … }`, the members written by `body` in key order.
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        first = true
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        first = false
    }

    private mutating func key(_ k: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func member(_ k: StaticString, _ s: String) { key(k); string(s) }
    public mutating func member(_ k: StaticString, _ x: Int) { key(k); bytes.append(contentsOf: String(x).utf8) }
    public mutating func member(_ k: StaticString, _ b: Bool) { key(k); bytes.append(contentsOf: (b ? "true" : "false").utf8) }
    public mutating func member(_ k: StaticString, _ x: Double) { key(k); number(x) }
    public mutating func member(_ k: StaticString, _ strings: [String]) { key(k); array(strings) { $0.string($1) } }
    public mutating func member(_ k: StaticString, _ numbers: [Double]) { key(k); array(numbers) { $0.number($1) } }
    public mutating func member<T: JSONWritable>(_ k: StaticString, _ v: T) { key(k); v.write(&self) }
    public mutating func member<T: JSONWritable>(_ k: StaticString, _ items: [T]) { key(k); array(items) { $1.write(&$0) } }

    /// `[ … ]`, each element written by `element`.
    private mutating func array<T>(_ items: [T], _ element: (inout JSONWriter, T) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (i, v) in items.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            element(&self, v)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    // Optionals: absent ones are left out, as synthesized `Encodable` does.
    public mutating func member(_ k: StaticString, _ s: String?) { if let s { member(k, s) } }
    public mutating func member(_ k: StaticString, _ x: Int?) { if let x { member(k, x) } }
    public mutating func member(_ k: StaticString, _ x: Double?) { if let x { member(k, x) } }
    public mutating func member(_ k: StaticString, _ s: [String]?) { if let s { member(k, s) } }
    public mutating func member(_ k: StaticString, _ x: [Double]?) { if let x { member(k, x) } }
    public mutating func member(_ k: StaticString, _ b: Bool?) { if let b { member(k, b) } }
    public mutating func member<T: JSONWritable>(_ k: StaticString, _ v: T?) { if let v { member(k, v) } }

    /// Foundation's form: Swift's shortest round-tripping description without a trailing ".0".
    /// Not finite: NaN or ±infinity, which Foundation refuses; `finite` says whether one was met.
    public private(set) var finite = true

    mutating func number(_ x: Double) {
        if !x.isFinite { finite = false }
        var s = x.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        bytes.append(contentsOf: s.utf8)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Quotes, backslashes and control characters escaped; everything else (slashes, non-ASCII) as is.
    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { u in
            var run = 0
            for i in 0..<u.count {
                let c = u[i]
                guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<i]))
                run = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(c)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default: bytes += [UInt8(ascii: "u"), 0x30, 0x30, Self.hex[Int(c >> 4)], Self.hex[Int(c & 15)]]
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[run...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
