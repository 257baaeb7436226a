import Foundation

/// Near-duplicate pairs that ended up in different splits: the leakage that inflates test scores.
public struct LeakPair: Sendable, Codable, Equatable {
    public var a: String
    public var b: String
    public var splits: [String]
    public var hashDistance: Int
    public var thumbDifference: Double?

    public init(a: String, b: String, splits: [String], hashDistance: Int, thumbDifference: Double?) {
        (self.a, self.b, self.splits, self.hashDistance, self.thumbDifference) = (a, b, splits, hashDistance, thumbDifference)
    }
}

public enum Leakage {
    /// Pairs of records in different splits whose perceptual hashes are at most `maxDistance`
    /// bits apart and (when the ingest cache has their thumbnails) whose thumbnails differ by at
    /// most `maxThumbDifference` levels: by default ingest's own rule (`NearDuplicate`), so the
    /// check reports what ingest would have grouped, and nothing its groups were built to allow.
    public static func check(workspace: String, maxDistance: Int = NearDuplicate.maxDistance, maxThumbDifference: Double = NearDuplicate.maxThumbDifference) throws -> [LeakPair] {
        let records = try JSONLines.read(Record.self, from: Workspace.manifest(workspace))
        return check(records, thumbs: thumbs(workspace: workspace), maxDistance: maxDistance, maxThumbDifference: maxThumbDifference)
    }

    /// The thumbnails of the ingest cache of `workspace`, by photo id.
    public static func thumbs(workspace: String) -> [String: Data] { IngestCache(workspace: workspace).thumbs }

    /// The pairs among `records` (those with a split), thumbnails by photo id.
    public static func check(_ all: [Record], thumbs: [String: Data], maxDistance: Int = NearDuplicate.maxDistance, maxThumbDifference: Double = NearDuplicate.maxThumbDifference) -> [LeakPair] {
        check(all.compactMap(Candidate.init), thumbs: thumbs, maxDistance: maxDistance, maxThumbDifference: maxThumbDifference)
    }

    /// What the check needs of a split record.
    public struct Candidate: Sendable, Equatable {
        public var id: String
        public var source: String
        public var split: String
        public var phash: UInt64

        public init(id: String, source: String, split: String, phash: UInt64) {
            (self.id, self.source, self.split, self.phash) = (id, source, split, phash)
        }

        public init?(_ r: Record) {
            guard let split = r.split else { return nil }
            self.init(id: r.id, source: r.source, split: split, phash: UInt64(r.phash, radix: 16) ?? 0)
        }
    }

    /// The pairs among `candidates`, taken in order of source (so the answer does not depend on
    /// the order they come in).
    public static func check(_ candidates: [Candidate], thumbs: [String: Data], maxDistance: Int = NearDuplicate.maxDistance, maxThumbDifference: Double = NearDuplicate.maxThumbDifference) -> [LeakPair] {
        check(candidates, thumb: { thumbs[$0] }, maxDistance: maxDistance, maxThumbDifference: maxThumbDifference)
    }

    /// The same, each thumbnail asked for by photo id.
    public static func check(_ candidates: [Candidate], thumb lookup: (String) -> Data?, maxDistance: Int = NearDuplicate.maxDistance,
                             maxThumbDifference: Double = NearDuplicate.maxThumbDifference) -> [LeakPair] {
        let records = candidates.sorted { $0.source < $1.source }
        let hashes = records.map(\.phash)
        // Per record once: its split as a number and its thumbnail (a dump of one person's face
        // has near pairs by the ten thousand).
        var splitNumbers: [String: Int] = [:]
        let split = records.map { r in
            if let k = splitNumbers[r.split] { return k }
            splitNumbers[r.split] = splitNumbers.count
            return splitNumbers.count - 1
        }
        let thumb = records.map { lookup($0.id) }
        var pairs: [LeakPair] = []
        for (i, j) in PerceptualHash.nearPairs(hashes, maxDistance: maxDistance) where split[i] != split[j] {
            if let p = pair(records[i], records[j], distance: PerceptualHash.distance(hashes[i], hashes[j]),
                            thumbs: (thumb[i], thumb[j]), maxThumbDifference: maxThumbDifference) { pairs.append(p) }
        }
        return pairs
    }

    /// Near candidates `a` and `b` (`a` first by source) of different splits as a leak: unless
    /// both thumbnails are known and differ by more than `maxThumbDifference`.
    static func pair(_ a: Candidate, _ b: Candidate, distance: Int, thumbs: (Data?, Data?), maxThumbDifference: Double) -> LeakPair? {
        var diff: Double?
        if let ta = thumbs.0, let tb = thumbs.1 {
            diff = Grouping.thumbDifference(ta, tb)
            if diff! > maxThumbDifference { return nil }
        }
        return LeakPair(a: a.source, b: b.source, splits: [a.split, b.split], hashDistance: distance, thumbDifference: diff)
    }
}

extension Leakage {
    /// The pairs among the candidates of `shards` (each by the hash it was read from), as
    /// `check` finds them, computed from `previous`: pairs between two shards it already held
    /// are taken from it, and only the candidates of the other shards are compared, with all.
    /// Needs every source once (a record per file); nil otherwise, and the caller checks in full.
    /// `thumbs` is asked only for the candidates of pairs compared now.
    ///
    /// - Complexity: O(c · n) for c candidates in new shards among n, against O(n log n + pairs).
    public static func update(_ shards: [(hash: String, candidates: [Candidate])], previous: (shards: [String: [Candidate]], pairs: [LeakPair]),
                              thumbs: (String) -> Data?, maxDistance: Int = NearDuplicate.maxDistance, maxThumbDifference: Double = NearDuplicate.maxThumbDifference) -> [LeakPair]? {
        let known = Set(shards.map(\.hash)).intersection(previous.shards.keys)
        var gone = Set<String>()
        for (hash, items) in previous.shards where !known.contains(hash) { for c in items { gone.insert(c.source) } }
        // The new candidates first, then the rest: a pair of two new ones is taken once.
        let new = shards.filter { !known.contains($0.hash) }.flatMap(\.candidates)
        let all = new + shards.filter { known.contains($0.hash) }.flatMap(\.candidates)
        guard Set(all.map(\.source)).count == all.count else { return nil }
        var pairs = previous.pairs.filter { !gone.contains($0.a) && !gone.contains($0.b) }
        for (i, c) in new.enumerated() {
            for j in (i + 1)..<all.count {
                let x = all[j]
                let distance = PerceptualHash.distance(c.phash, x.phash)
                guard distance <= maxDistance, c.split != x.split else { continue }
                let (a, b) = c.source < x.source ? (c, x) : (x, c)
                if let p = pair(a, b, distance: distance, thumbs: (thumbs(a.id), thumbs(b.id)), maxThumbDifference: maxThumbDifference) {
                    pairs.append(p)
                }
            }
        }
        pairs.sort { ($0.a, $0.b) < ($1.a, $1.b) }
        return pairs
    }
}
