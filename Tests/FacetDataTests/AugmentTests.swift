import FacetCore
import Foundation
import Testing
@testable import FacetData
@testable import FacetImage

@Suite struct AugmentTests {
    static func prepared(count: Int = 24) throws -> (dump: String, ws: String) {
        let dump = try Support.synth("aug", count: count, seed: 12, size: 64)
        let ws = Support.temp("ws")
        _ = try Ingest.run(dump: dump, workspace: ws)
        _ = try Labeling.run(workspace: ws, options: LabelOptions())
        _ = try Tagging.run(workspace: ws, thresholds: TagThresholds())
        var o = SplitOptions()
        o.test = .fraction(0.25)
        o.val = .fraction(0.25)
        _ = try Splitting.run(workspace: ws, options: o)
        return (dump, ws)
    }

    static func options(seed: UInt64 = 1) -> AugmentOptions {
        var o = AugmentOptions()
        o.size = 32
        o.copies = 2
        o.seed = seed
        return o
    }

    /// Relative path → SHA-256 of every file of the dataset.
    static func hashes(_ ws: String) throws -> [String: String] {
        let root = DatasetExport.folder(ws)
        var out: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: root)!
        while let rel = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &isDir)
            if !isDir.boolValue { out[rel] = Analyzer.sha256(try ImageDecoder.readFile(root + "/" + rel)) }
        }
        return out
    }

    @Test func sameSeedSameBytesOnAnyNumberOfThreads() throws {
        let (dump, ws) = try Self.prepared()
        defer { Support.remove(dump, ws) }
        _ = try DatasetExport.run(workspace: ws, options: Self.options(), threads: 1)
        let one = try Self.hashes(ws)
        _ = try DatasetExport.run(workspace: ws, options: Self.options())
        let all = try Self.hashes(ws)
        _ = try DatasetExport.run(workspace: ws, options: Self.options())
        let again = try Self.hashes(ws)
        #expect(one == all && all == again)
        #expect(one.keys.contains("manifest.jsonl") && one.keys.contains("manifest.csv"))
        _ = try DatasetExport.run(workspace: ws, options: Self.options(seed: 2))
        let other = try Self.hashes(ws)
        #expect(Set(other.keys) == Set(one.keys))
        let augmented = one.keys.filter { $0.hasPrefix("train/") && !$0.hasSuffix("-0.jpg") }
        #expect(!augmented.isEmpty && augmented.allSatisfy { one[$0] != other[$0] })
        let plain = one.keys.filter { $0.hasSuffix("-0.jpg") }
        #expect(!plain.isEmpty && plain.allSatisfy { one[$0] == other[$0] })
    }

    /// A rebuilt dataset is written into the emptied files of the one it replaced (no inode freed or
    /// made), byte for byte as from nothing; a link planted in the pool is never written through, and
    /// files with other links (a dataset hard-linked from a store) are never emptied.
    @Test func rebuildsReuseTheReplacedFilesSafely() throws {
        let (dump, ws) = try Self.prepared()
        defer { Support.remove(dump, ws) }
        let root = DatasetExport.folder(ws)
        func inodes() -> Set<UInt64> {
            var out = Set<UInt64>()
            FileSystem.walk(root) { f in var st = stat(); if lstat(f, &st) == 0 { out.insert(UInt64(st.st_ino)) } }
            return out
        }
        _ = try DatasetExport.run(workspace: ws, options: Self.options())
        let first = try Self.hashes(ws), firstInodes = inodes()
        _ = try DatasetExport.run(workspace: ws, options: Self.options(seed: 2))
        _ = try DatasetExport.run(workspace: ws, options: Self.options())
        #expect(try Self.hashes(ws) == first)
        let pool = DatasetExport.recycled(ws)
        let pooled = try FileManager.default.contentsOfDirectory(atPath: pool)
        #expect(pooled.count == first.count, "the pool holds the replaced dataset's files")
        #expect(inodes().subtracting(firstInodes).count <= 3, "images are written into reused files (the manifests are renamed in)")
        for f in pooled { #expect((try FileManager.default.attributesOfItem(atPath: pool + "/" + f)[.size] as? Int) == 0) }

        // A link to a file outside, and a file with a second name, put in the pool.
        let outside = Support.temp("outside")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: outside))
        defer { Support.remove(outside) }
        for name in pooled { unlink(pool + "/" + name) }
        #expect(symlink(outside, pool + "/a") == 0)
        #expect(link(outside, pool + "/b") == 0)
        _ = try DatasetExport.run(workspace: ws, options: Self.options(seed: 2))
        _ = try DatasetExport.run(workspace: ws, options: Self.options())
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "keep me")
        #expect(try Self.hashes(ws) == first)

        // A dataset whose images have other links: replaced, they keep their bytes.
        var linked: [String: String] = [:]
        FileSystem.walk(root) { f in
            guard f.hasSuffix(".jpg") else { return }
            let other = Support.temp("link")
            if link(f, other) == 0 { linked[other] = Analyzer.sha256((try? ImageDecoder.readFile(other)) ?? []) }
        }
        defer { for o in linked.keys { unlink(o) } }
        #expect(!linked.isEmpty)
        _ = try DatasetExport.run(workspace: ws, options: Self.options(seed: 3))
        for (o, hash) in linked { #expect(Analyzer.sha256(try ImageDecoder.readFile(o)) == hash) }
    }

    @Test func outputsDoNotDependOnWhichOtherPhotosExist() throws {
        let (dump, ws) = try Self.prepared()
        defer { Support.remove(dump, ws) }
        _ = try DatasetExport.run(workspace: ws, options: Self.options())
        let full = try Self.hashes(ws)
        var records = try JSONLines.read(Record.self, from: Workspace.manifest(ws))
        let removed = records.removeFirst()
        try JSONLines.write(records, to: Workspace.manifest(ws))
        _ = try DatasetExport.run(workspace: ws, options: Self.options())
        let fewer = try Self.hashes(ws)
        for (file, hash) in fewer where file.hasSuffix(".jpg") { #expect(full[file] == hash, "\(file)") }
        #expect(fewer.keys.filter { $0.contains(removed.id.prefix(16)) }.isEmpty)
    }

    @Test func onlyTrainingIsAugmentedAndCopiesStayInTheirSplit() throws {
        let (dump, ws) = try Self.prepared()
        defer { Support.remove(dump, ws) }
        let s = try DatasetExport.run(workspace: ws, options: Self.options())
        let records = try JSONLines.read(Record.self, from: Workspace.manifest(ws))
        let splitOf = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.split) })
        let out = try JSONLines.read(DatasetRecord.self, from: DatasetExport.folder(ws) + "/manifest.jsonl")
        for r in out {
            #expect(r.file == "\(r.split)/\(r.label)/\(r.derivedFrom.prefix(16))-\(r.copy).jpg")
            #expect(splitOf[r.derivedFrom] == r.split)
            #expect(r.split == "train" || (r.copy == 0 && r.augment.isEmpty))
            let image = try ImageDecoder.decode(file: DatasetExport.folder(ws) + "/" + r.file)
            #expect(image.image.width == 32 && image.image.height == 32 && image.exif == nil)
        }
        let train = records.filter { $0.split == "train" }.count
        #expect(s.written["train"] == train * 3)
        #expect(out.filter { $0.copy > 0 }.allSatisfy { $0.augment.map(\.op) == ["hflip", "vflip", "gaussian_blur", "color_jitter"] })
        let jitter = out.compactMap { $0.augment.first { $0.op == "color_jitter" } }
        #expect(jitter.allSatisfy { Set($0.order ?? []) == ["brightness", "contrast", "saturation", "hue"] })
        #expect(Set(jitter.map { $0.order! }).count > 1, "the jitter order never varied")
        for j in jitter {
            #expect((0.6...1.4).contains(j.brightness!) && (0.6...1.4).contains(j.contrast!) && (-0.1...0.1).contains(j.hue!))
        }
        let csv = try String(contentsOfFile: DatasetExport.folder(ws) + "/manifest.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == out.count + 1)
    }

    @Test func everyImageReplaysAlone() throws {
        let (dump, ws) = try Self.prepared(count: 9)
        defer { Support.remove(dump, ws) }
        _ = try DatasetExport.run(workspace: ws, options: Self.options())
        let out = try JSONLines.read(DatasetRecord.self, from: DatasetExport.folder(ws) + "/manifest.jsonl")
        for r in out { #expect(try DatasetExport.replay(workspace: ws, file: r.file), "\(r.file)") }
    }

    @Test func padPolicyKeepsTheWholePhoto() throws {
        let (dump, ws) = try Self.prepared(count: 12)
        defer { Support.remove(dump, ws) }
        var o = Self.options()
        o.policy = .pad
        o.copies = 0
        _ = try DatasetExport.run(workspace: ws, options: o)
        let out = try JSONLines.read(DatasetRecord.self, from: DatasetExport.folder(ws) + "/manifest.jsonl")
        let image = try ImageDecoder.decode(file: DatasetExport.folder(ws) + "/" + out[0].file).image
        #expect(image.width == 32 && image.height == 32)
        // A 3:4 photo padded to a square: black bars left and right.
        let portrait = try ImageDecoder.decode(file: dump + "/" + out[0].source).image
        let edge = portrait.width < portrait.height ? image[16, 0, 0] : image[0, 16, 0]
        #expect(edge < 12)
    }
}
