import Foundation

/// File names whatever their bytes. Linux names are bytes, and a dump copied from an old camera
/// or another system can hold names that are not UTF-8. Such a name is kept as a String in which
/// each byte outside valid UTF-8 is the private-use character U+10FF00 + byte (as Python's
/// `surrogateescape` keeps them), so it shows, sorts, and is written to JSON like any name, and
/// turns back into the same bytes whenever the file is opened. Names that are UTF-8 are untouched.
public enum FileName {
    static let base: UInt32 = 0x10FF00

    /// The name of `bytes` (no NUL), escaped where they are not UTF-8.
    public static func string(_ bytes: some Collection<UInt8>) -> String {
        if let s = String(validating: bytes, as: UTF8.self), !isEscaped(s) { return s }
        let b = Array(bytes)
        var out = String.UnicodeScalarView(), i = 0
        while i < b.count {
            // The shortest valid UTF-8 sequence here, else one escaped byte.
            var taken = false
            for n in 1...4 where i + n <= b.count {
                if let s = String(validating: b[i..<i + n], as: UTF8.self), s.unicodeScalars.count == 1, !isEscape(s.unicodeScalars.first!) {
                    out.append(s.unicodeScalars.first!)
                    i += n
                    taken = true
                    break
                }
            }
            if !taken { out.append(Unicode.Scalar(base + UInt32(b[i]))!); i += 1 }
        }
        return String(out)
    }

    /// The bytes `name` stands for, NUL-terminated, for the system's calls.
    public static func cString(_ name: String) -> [CChar] {
        guard isEscaped(name) else { return Array(name.utf8CString) }
        var out: [CChar] = []
        for scalar in name.unicodeScalars {
            if isEscape(scalar) { out.append(CChar(bitPattern: UInt8(scalar.value - base))) } else {
                out += String(scalar).utf8.map { CChar(bitPattern: $0) }
            }
        }
        return out + [0]
    }

    /// Whether `name` holds bytes that are not UTF-8 (shown escaped).
    static func isEscaped(_ name: String) -> Bool { name.unicodeScalars.contains(where: isEscape) }

    static func isEscape(_ s: Unicode.Scalar) -> Bool { s.value >= base + 0x80 && s.value <= base + 0xFF }
}
