import Foundation
import Testing
@testable import FacetData

/// The leakage check brought up to date from its last answer finds what a full check finds.
@Suite struct LeakageTests {
    /// Candidates in clusters of near hashes (one face photographed again and again), split at
    /// random; thumbnails near within a cluster for some photos and far for others.
    static func candidates(_ n: Int, from: Int, rng: inout some RandomNumberGenerator) -> [Leakage.Candidate] {
        (0..<n).map { k in
            let i = from + k
            let cluster = UInt64.random(in: 0..<6, using: &rng) &* 0x9E37_79B9_7F4A_7C15
            let noise = (0..<Int.random(in: 0...9, using: &rng)).reduce(UInt64(0)) { h, _ in h | 1 << UInt64.random(in: 0..<64, using: &rng) }
            return Leakage.Candidate(id: "id\(i)", source: "p/\(String(i, radix: 7))-\(UInt8.random(in: 0...255, using: &rng)).jpg",
                                     split: ["train", "val", "test"].randomElement(using: &rng)!, phash: cluster ^ noise)
        }
    }

    static func thumbs(_ ids: [String], rng: inout some RandomNumberGenerator) -> [String: Data] {
        Dictionary(uniqueKeysWithValues: ids.map { id in
            let base = UInt8(id.hashValue & 0x3) * 2
            return (id, Data((0..<768).map { _ in base &+ UInt8.random(in: 0...2, using: &rng) }))
        })
    }

    @Test func anUpdatedCheckFindsWhatAFullCheckFinds() throws {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<20 {
            var next = 0
            func shard() -> (hash: String, candidates: [Leakage.Candidate]) {
                defer { next += 30 }
                return ("h\(next)", Self.candidates(Int.random(in: 0...30, using: &rng), from: next, rng: &rng))
            }
            let before = (0..<12).map { _ in shard() }
            let thumbs = Self.thumbs((0..<1000).map { "id\($0)" }, rng: &rng)
            let first = Leakage.check(before.flatMap(\.candidates), thumbs: thumbs)
            let state = (shards: Dictionary(uniqueKeysWithValues: before.map { ($0.hash, $0.candidates) }), pairs: first)
            // Two shards go, three come, and one photo moves to a shard of its own.
            var after = Array(before.dropFirst(2)) + (0..<3).map { _ in shard() }
            if var moved = after.first, let photo = moved.candidates.popLast() {
                after[0] = ("h-moved-from", moved.candidates)
                var changed = photo
                changed.split = changed.split == "train" ? "test" : "train"
                after.append(("h-moved-to", [changed]))
            }
            var asked = Set<String>()
            let updated = try #require(Leakage.update(after, previous: state, thumbs: { asked.insert($0); return thumbs[$0] }))
            let full = Leakage.check(after.flatMap(\.candidates), thumbs: thumbs)
            #expect(updated == full, "round \(round): \(updated.count) pairs updated, \(full.count) checked in full")
            #expect(asked.count < after.flatMap(\.candidates).count || full.isEmpty, "only the pairs compared now read thumbnails")
            if round == 0 { #expect(!full.isEmpty, "the clusters make pairs") }
        }
        // The same source twice (two records of one file): declined.
        let c = Leakage.Candidate(id: "a", source: "same.jpg", split: "train", phash: 1)
        #expect(Leakage.update([("x", [c]), ("y", [c])], previous: (shards: [:], pairs: []), thumbs: { _ in nil }) == nil)
    }
}
