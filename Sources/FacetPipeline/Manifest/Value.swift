import Foundation

/// A parameter value as the manifest gives it, after defaults are filled in: the canonical
/// form that cache keys hash, the lock file records and `facet status` compares.
public indirect enum Value: Equatable, Sendable, Codable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([Value])
    case object([String: Value])

    /// Canonical JSON: keys sorted, no spaces, numbers in Swift's shortest round-trip form
    /// (an integer stays an integer; a float always has a point or an exponent).
    public var canonical: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): d.isFinite ? "\(d)" : "null"
        case .string(let s): Value.quote(s)
        case .array(let a): "[" + a.map(\.canonical).joined(separator: ",") + "]"
        case .object(let o): "{" + o.keys.sorted().map { Value.quote($0) + ":" + o[$0]!.canonical }.joined(separator: ",") + "}"
        }
    }

    /// How a person reads the value in a message: strings unquoted unless empty.
    public var display: String {
        switch self {
        case .string(let s): s.isEmpty ? "\"\"" : s
        default: canonical
        }
    }

    /// Every leaf by its dotted path (`ops[3].color_jitter.hue`), for explaining what changed.
    public func leaves(_ prefix: String = "") -> [String: Value] {
        switch self {
        case .object(let o) where !o.isEmpty:
            return o.reduce(into: [:]) { out, kv in
                out.merge(kv.value.leaves(prefix.isEmpty ? kv.key : prefix + "." + kv.key)) { a, _ in a }
            }
        case .array(let a) where !a.isEmpty:
            return a.enumerated().reduce(into: [:]) { out, e in out.merge(e.element.leaves("\(prefix)[\(e.offset)]")) { a, _ in a } }
        default:
            return [prefix: self]
        }
    }

    /// Sentences naming each leaf that differs between `old` and `self`: "hue changed 0.1 → 0.2".
    public func changes(from old: Value) -> [String] {
        let a = old.leaves(), b = leaves()
        return Set(a.keys).union(b.keys).sorted().compactMap { key in
            switch (a[key], b[key]) {
            case let (x?, y?) where !x.sameAs(y): "\(key) changed \(x.display) → \(y.display)"
            case let (x?, nil): "\(key) removed (was \(x.display))"
            case let (nil, y?): "\(key) added (\(y.display))"
            default: nil
            }
        }
    }

    /// Equal, counting an integer and a float of the same value as one (JSON does not tell them apart).
    func sameAs(_ other: Value) -> Bool {
        switch (self, other) {
        case let (.int(a), .double(b)), let (.double(b), .int(a)): Double(a) == b
        default: self == other
        }
    }

    /// Indented JSON with sorted keys, for files people diff (the lock file).
    public func pretty(_ indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .array(let a) where !a.isEmpty && a.contains(where: { if case .object = $0 { true } else { false } }):
            return "[\n" + a.map { inner + $0.pretty(inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let o) where !o.isEmpty:
            return "{\n" + o.keys.sorted().map { inner + Value.quote($0) + ": " + o[$0]!.pretty(inner) }.joined(separator: ",\n")
                + "\n" + indent + "}"
        case .array(let a):
            return "[" + a.map(\.canonical).joined(separator: ", ") + "]"
        default:
            return canonical
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([Value].self) { self = .array(a) }
        else { self = .object(try c.decode([String: Value].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
