import FacetCore
import FacetData
import Foundation

/// The leakage check's last answer and what it was asked, kept between runs: each shard's
/// candidates by the hash of the object they were read from, and the pairs found among them
/// all. A run that changed a few shards then reads only those shards' candidates and compares
/// only them with the rest (`Leakage.update`), rather than every pair of 3,766 photos again.
///
/// `WORKSPACE/cache/leakage.bin`: a header line naming the format, the analyser (thumbnails
/// follow from a photo's id under it) and the check's two limits, then `BinaryRecords`: one per
/// shard (hash, candidates), then one of the pairs. Written whole through a rename; a file
/// that does not read in full is no state at all.
public struct LeakageState: Sendable, Equatable {
    public var shards: [String: [Leakage.Candidate]]
    public var pairs: [LeakPair]

    public init(shards: [String: [Leakage.Candidate]], pairs: [LeakPair]) {
        (self.shards, self.pairs) = (shards, pairs)
    }

    public static func path(_ workspace: String) -> String { workspace + "/cache/leakage.bin" }

    static func header(maxDistance: Int, maxThumbDifference: Double) -> [UInt8] {
        Array("facet-leakage 1 analyzer \(Analyzer.version) distance \(maxDistance) thumbs \(maxThumbDifference)\n".utf8)
    }

    /// The state in `path`, when it was written for these limits and reads in full.
    public static func read(_ path: String, maxDistance: Int = NearDuplicate.maxDistance, maxThumbDifference: Double = NearDuplicate.maxThumbDifference) -> LeakageState? {
        guard let data = FileSystem.read(path) else { return nil }
        let head = header(maxDistance: maxDistance, maxThumbDifference: maxThumbDifference)
        guard data.starts(with: head) else { return nil }
        let (payloads, end) = BinaryRecords.split(data, from: head.count)
        guard end == data.count, let last = payloads.last else { return nil }
        return data.withUnsafeBytes { b -> LeakageState? in
            do throws(BinaryReader.Malformed) {
                var shards: [String: [Leakage.Candidate]] = [:]
                for p in payloads.dropLast() {
                    var r = BinaryReader(UnsafeRawBufferPointer(rebasing: b[p]))
                    let hash = try r.string(), n = try r.int()
                    guard n >= 0 && n <= p.count else { return nil }
                    var items: [Leakage.Candidate] = []
                    items.reserveCapacity(n)
                    for _ in 0..<n {
                        items.append(Leakage.Candidate(id: try r.string(), source: try r.string(), split: try r.string(), phash: try r.uint64()))
                    }
                    guard r.atEnd else { return nil }
                    shards[hash] = items
                }
                var r = BinaryReader(UnsafeRawBufferPointer(rebasing: b[last]))
                let n = try r.int()
                guard n >= 0 && n <= last.count else { return nil }
                var pairs: [LeakPair] = []
                pairs.reserveCapacity(n)
                for _ in 0..<n {
                    let a = try r.string(), b = try r.string(), splits = [try r.string(), try r.string()]
                    pairs.append(LeakPair(a: a, b: b, splits: splits, hashDistance: try r.int(),
                                          thumbDifference: try r.optional { r throws(BinaryReader.Malformed) in try r.double() }))
                }
                guard r.atEnd else { return nil }
                return LeakageState(shards: shards, pairs: pairs)
            } catch {
                return nil
            }
        }
    }

    /// Writes the state to `path` (a temporary file renamed; not fsynced: a state lost costs one full check).
    public func write(to path: String, maxDistance: Int = NearDuplicate.maxDistance, maxThumbDifference: Double = NearDuplicate.maxThumbDifference) throws {
        var out = Self.header(maxDistance: maxDistance, maxThumbDifference: maxThumbDifference)
        for hash in shards.keys.sorted() {
            var w = BinaryWriter()
            w.string(hash)
            w.int(shards[hash]!.count)
            for c in shards[hash]! {
                w.string(c.id); w.string(c.source); w.string(c.split); w.uint64(c.phash)
            }
            BinaryRecords.append(w.bytes, to: &out)
        }
        var w = BinaryWriter()
        w.int(pairs.count)
        for p in pairs {
            w.string(p.a); w.string(p.b); w.string(p.splits[0]); w.string(p.splits[1]); w.int(p.hashDistance)
            w.optional(p.thumbDifference) { $0.double($1) }
        }
        BinaryRecords.append(w.bytes, to: &out)
        try CacheFile.write(out, to: path)
    }
}
