import FacetData
import Foundation

extension SplitStage {
    /// Leakage candidates as lines of phash, split, id and source (`%`, tab and line breaks in
    /// a source escaped as `%25`, `%09`, `%0A`, `%0D`).
    static func encodeCandidates(_ items: [Leakage.Candidate]) -> [UInt8] {
        Array(items.map { c in
            let plain = !c.source.utf8.contains { $0 == UInt8(ascii: "%") || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
            let source = plain ? c.source : c.source.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\t", with: "%09")
                .replacingOccurrences(of: "\n", with: "%0A").replacingOccurrences(of: "\r", with: "%0D")
            return String(c.phash, radix: 16) + "\t" + c.split + "\t" + c.id + "\t" + source + "\n"
        }.joined().utf8)
    }

    static func decodeCandidates(_ bytes: [UInt8], name: String) throws -> [Leakage.Candidate] {
        var out: [Leakage.Candidate] = []
        for line in bytes.split(separator: 0x0A) {
            let f = line.split(separator: 0x09, maxSplits: 3, omittingEmptySubsequences: false)
            guard f.count == 4, let phash = UInt64(String(decoding: f[0], as: UTF8.self), radix: 16) else {
                throw DataError("\(name): not a list of leakage candidates")
            }
            var source = String(decoding: f[3], as: UTF8.self)
            if f[3].contains(UInt8(ascii: "%")) {
                source = source.replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%0A", with: "\n")
                    .replacingOccurrences(of: "%09", with: "\t").replacingOccurrences(of: "%25", with: "%")
            }
            out.append(Leakage.Candidate(id: String(decoding: f[2], as: UTF8.self), source: source,
                                         split: String(decoding: f[1], as: UTF8.self), phash: phash))
        }
        return out
    }
}
