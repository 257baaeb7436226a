import Foundation
import Testing
@testable import FacetData

/// The record types' hand-written JSON must be exactly Foundation's bytes, and read back as
/// Foundation reads it.
@Suite struct JSONRecordTests {
    static func foundation<T: Encodable>(_ v: T) throws -> String {
        String(decoding: try JSONLines.encoder().encode(v), as: UTF8.self)
    }

    static func fast<T: JSONWritable>(_ v: T) -> String {
        var w = JSONWriter()
        v.write(&w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    static func read<T: JSONReadable>(_ type: T.Type, _ text: String) throws -> T {
        try Array(text.utf8).withUnsafeBufferPointer { try JSONReader.read(T.self, $0) }
    }

    /// Strings with every control character, quotes, backslashes, slashes and non-ASCII text.
    func string(_ g: inout SystemRandomNumberGenerator) -> String {
        let pool: [Unicode.Scalar] = (0..<0x80).compactMap(Unicode.Scalar.init) + ["é", "\u{2028}", "\u{FEFF}", "😀", "中"]
        var s = ""
        for _ in 0..<Int.random(in: 0...24, using: &g) { s.unicodeScalars.append(pool.randomElement(using: &g)!) }
        return s
    }

    /// Finite doubles of every magnitude, plus the ones whose text is special.
    func double(_ g: inout SystemRandomNumberGenerator) -> Double {
        let special: [Double] = [0, -0.0, 1, 100, 1e15, 1e16, 1e-7, 0.1, 5e-324, .greatestFiniteMagnitude, 0.30000000000000004]
        if Bool.random(using: &g) { return special.randomElement(using: &g)! }
        var d: Double
        repeat { d = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &g)) } while !d.isFinite
        return d
    }

    func randomRecords(_ g: inout SystemRandomNumberGenerator) -> (Record, DatasetRecord) {
        let tag = { (g: inout SystemRandomNumberGenerator) in
            Conditions.Tag(value: string(&g), score: Bool.random(using: &g) ? double(&g) : nil)
        }
        var r = Record(
            id: string(&g), source: string(&g) + "/a/b.jpg", format: .jpeg, width: Int.random(in: 0...100_000, using: &g),
            height: -Int.random(in: 0...100, using: &g), orientation: 1, bytes: Int.random(in: Int.min...Int.max, using: &g),
            taken: Bool.random(using: &g) ? string(&g) : nil, camera: nil,
            quality: Quality(dark: double(&g), light: double(&g), blurry: double(&g), lowInformation: double(&g),
                             oddAspect: double(&g), oddSize: double(&g), grayscale: double(&g)),
            issues: (0..<Int.random(in: 0...3, using: &g)).map { _ in string(&g) },
            features: Features(brightness: double(&g), exifBrightness: Bool.random(using: &g) ? double(&g) : nil,
                               borderEdges: double(&g), borderChroma: double(&g), asymmetry: double(&g), foreign: double(&g)),
            phash: string(&g),
            conditions: Bool.random(using: &g) ? Conditions(lighting: tag(&g), background: tag(&g), occlusion: tag(&g), source: "auto") : nil,
            label: string(&g), group: string(&g), split: Bool.random(using: &g) ? "val" : nil,
            warnings: Bool.random(using: &g) ? [string(&g)] : nil)
        let box = { (g: inout SystemRandomNumberGenerator) in
            FaceBox(left: double(&g), top: double(&g), right: double(&g), bottom: double(&g), score: double(&g))
        }
        if Bool.random(using: &g) {
            r.face = FaceFinding(faces: Int.random(in: 0...5, using: &g), box: Bool.random(using: &g) ? box(&g) : nil,
                                 landmarks: (0..<Int.random(in: 0...68, using: &g)).map { _ in FacePoint(x: double(&g), y: double(&g)) },
                                 others: (0..<Int.random(in: 0...2, using: &g)).map { _ in box(&g) },
                                 searchedWidth: Int.random(in: 0...4096, using: &g), searchedHeight: 7, upsample: 1)
        }
        let d = DatasetRecord(
            file: string(&g), id: string(&g), derivedFrom: string(&g), source: string(&g), split: "train", label: string(&g),
            lighting: nil, background: string(&g), occlusion: nil, copy: Int.random(in: 0...9, using: &g),
            augment: [AppliedOp(op: "blur", applied: true, kernel: 5, sigma: double(&g), order: [string(&g), string(&g)],
                                brightness: double(&g), contrast: nil, saturation: double(&g), hue: -double(&g)),
                      AppliedOp(op: "hflip", applied: false)])
        return (r, d)
    }

    @Test func recordsEncodeToFoundationsBytes() throws {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let (r, d) = randomRecords(&g)
            #expect(Self.fast(r) == (try Self.foundation(r)))
            #expect(Self.fast(d) == (try Self.foundation(d)))
        }
    }

    /// What the hand reader makes of a line equals what JSONDecoder makes of it: the writer's
    /// lines, and Foundation's pretty-printed ones with escaped slashes, nulls and unknown keys.
    @Test func recordsReadAsFoundationReadsThem() throws {
        var g = SystemRandomNumberGenerator()
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted]
        for _ in 0..<300 {
            let (r, d) = randomRecords(&g)
            for line in [Self.fast(r), String(decoding: try pretty.encode(r), as: UTF8.self)] {
                let hand = try Self.read(Record.self, line)
                #expect(hand == (try JSONDecoder().decode(Record.self, from: Data(line.utf8))))
                #expect(hand == r)
            }
            #expect(try Self.read(DatasetRecord.self, Self.fast(d)) == d)
        }
        let extra = #"{"unknown":{"a":[1,null,"x\"y",true]},"applied":true,"op":"hflip","sigma":null,"order":["a\/b","\u00e9\ud83d\ude00\n"]}"#
        let hand = try Self.read(AppliedOp.self, extra)
        #expect(hand == (try JSONDecoder().decode(AppliedOp.self, from: Data(extra.utf8))))
        #expect(hand.order == ["a/b", "é😀\n"])
    }

    /// Broken JSON, a wrong type or a missing member: the reader refuses, and `JSONLines` names
    /// the file and line (Foundation's decoder says why).
    @Test func aBrokenLineIsRefusedAndNamed() throws {
        var g = SystemRandomNumberGenerator()
        let (r, _) = randomRecords(&g)
        let good = Self.fast(r)
        for bad in [good.replacingOccurrences(of: "\"width\":", with: "\"widthx\":"),
                    good.replacingOccurrences(of: "\"height\":", with: "\"height\":\"1\",\"h\":"),
                    String(good.dropLast()), good + "}", good.replacingOccurrences(of: "\"issues\":[", with: "\"issues\":[1,")] {
            #expect(throws: (any Error).self) { try Self.read(Record.self, bad) }
            let text = good + "\n" + bad + "\n"
            do {
                _ = try JSONLines.decode(Record.self, Array(text.utf8), name: "m.jsonl")
                Issue.record("accepted \(bad)")
            } catch {
                #expect("\(error)".hasPrefix("m.jsonl:2: "), "\(error)")
            }
        }
        let blank = good + "\n\n  \n" + good + "\n"
        #expect(try JSONLines.decode(Record.self, Array(blank.utf8), name: "m.jsonl") == [r, r])
    }

    @Test func aNumberThatIsNotFiniteIsAnError() throws {
        var q = Quality(dark: 0, light: 0, blurry: .nan, lowInformation: 0, oddAspect: 0, oddSize: 0, grayscale: 0)
        #expect(throws: (any Error).self) { try JSONLines.encode(q) }
        q.blurry = 0.5
        #expect(try JSONLines.encode(q) == (try Self.foundation(q)))
    }
}
