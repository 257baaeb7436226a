@testable import FacetData
import Foundation
import Testing
@testable import FacetPipeline

/// The split stage's leakage state (`cache/leakage.bin`) reads back what was written, and a file
/// cut short, damaged or written for other limits reads as no state.
@Suite struct LeakageStateTests {
    @Test func theStateReadsBackAndRefusesDamage() throws {
        var rng = SystemRandomNumberGenerator()
        let items = (0..<40).map { i in
            Leakage.Candidate(id: "id\(i)", source: "p/\(i).jpg", split: ["train", "val", "test"][i % 3], phash: UInt64.random(in: 0...UInt64.max, using: &rng))
        } + [Leakage.Candidate(id: "é", source: "tab\tand\nbreak.jpg", split: "val", phash: .max)]
        let pairs = [LeakPair(a: "p/1.jpg", b: "p/2.jpg", splits: ["val", "test"], hashDistance: 2, thumbDifference: 1.25),
                     LeakPair(a: "x", b: "y", splits: ["train", "test"], hashDistance: 3, thumbDifference: nil)]
        let state = LeakageState(shards: ["h1": Array(items[..<20]), "h2": Array(items[20...]), "empty": []], pairs: pairs)
        let dir = NSTemporaryDirectory() + "leakage-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/leakage.bin"
        try state.write(to: path)
        #expect(LeakageState.read(path) == state)
        #expect(LeakageState.read(path, maxDistance: 8) == nil, "written for other limits")
        let bytes = try #require(FileManager.default.contents(atPath: path))
        for damaged in [bytes.prefix(bytes.count - 3), { var b = bytes; b[b.count / 2] ^= 0x20; return b }()] {
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            #expect(LeakageState.read(path) == nil)
        }
    }
}
