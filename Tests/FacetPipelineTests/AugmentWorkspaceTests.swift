import FacetCore
import FacetData
import FacetImage
import Foundation
import Testing
@testable import FacetPipeline

/// `facet augment WORKSPACE`: the augment stage run on a workspace the commands made.
@Suite struct AugmentWorkspaceTests {
    static func prepared(count: Int = 24) throws -> (dump: String, ws: String) {
        let dump = Support.temp("aug")
        try Support.synth(dump, count: count, seed: 12, extras: nil)
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
        _ = try AugmentWorkspace.run(workspace: ws, options: Self.options(), threads: 1)
        let one = try Self.hashes(ws)
        _ = try AugmentWorkspace.run(workspace: ws, options: Self.options())
        let all = try Self.hashes(ws)
        _ = try AugmentWorkspace.run(workspace: ws, options: Self.options())
        let again = try Self.hashes(ws)
        #expect(one == all && all == again)
        #expect(one.keys.contains("manifest.jsonl") && one.keys.contains("manifest.csv"))
        _ = try AugmentWorkspace.run(workspace: ws, options: Self.options(seed: 2))
        let other = try Self.hashes(ws)
        #expect(Set(other.keys) == Set(one.keys))
        let augmented = one.keys.filter { $0.hasPrefix("train/") && !$0.hasSuffix("-0.jpg") }
        #expect(!augmented.isEmpty && augmented.allSatisfy { one[$0] != other[$0] })
        let plain = one.keys.filter { $0.hasSuffix("-0.jpg") }
        #expect(!plain.isEmpty && plain.allSatisfy { one[$0] == other[$0] })
    }

    /// A photo is rendered once per set of options: a rerun renders none, a forced one all of them
    /// again (the same bytes), new options all; images deleted by hand come back.
    @Test func rerunsRenderOnlyWhatTheCacheLacks() throws {
        let (dump, ws) = try Self.prepared(count: 12)
        defer { Support.remove(dump, ws) }
        let n = try JSONLines.read(Record.self, from: Workspace.manifest(ws)).filter { $0.split != nil && $0.label != nil }.count
        let first = try AugmentWorkspace.run(workspace: ws, options: Self.options())
        #expect(n > 6 && first.photos == n && first.rendered == n)
        let bytes = try Self.hashes(ws)
        let again = try AugmentWorkspace.run(workspace: ws, options: Self.options())
        #expect(again.rendered == 0 && again.written == first.written)
        #expect(try Self.hashes(ws) == bytes)
        #expect(try AugmentWorkspace.run(workspace: ws, options: Self.options(), force: true).rendered == n)
        #expect(try Self.hashes(ws) == bytes)
        #expect(try AugmentWorkspace.run(workspace: ws, options: Self.options(seed: 2)).rendered == n)
        #expect(try AugmentWorkspace.run(workspace: ws, options: Self.options()).rendered == 0)
        #expect(try Self.hashes(ws) == bytes)

        let images = bytes.keys.filter { $0.hasSuffix(".jpg") }.sorted()
        let root = DatasetExport.folder(ws)
        unlink(root + "/" + images[0])
        unlink(root + "/" + images[5])
        _ = try AugmentWorkspace.run(workspace: ws, options: Self.options())
        #expect(try Self.hashes(ws) == bytes)
    }

    @Test func refusesManifestNamesThatClimbOut() throws {
        let (dump, ws) = try Self.prepared(count: 12)
        defer { Support.remove(dump, ws) }
        let good = try JSONLines.read(Record.self, from: Workspace.manifest(ws))
        for bad in ["../x", "a/b", ".."] {
            var records = good
            let i = records.firstIndex { $0.label != nil && $0.split != nil }!
            records[i].label = bad
            try JSONLines.write(records, to: Workspace.manifest(ws))
            #expect(throws: DataError.self) { try AugmentWorkspace.run(workspace: ws, options: Self.options()) }
            records = good
            records[i].source = "../" + records[i].source
            try JSONLines.write(records, to: Workspace.manifest(ws))
            #expect(throws: DataError.self) { try AugmentWorkspace.run(workspace: ws, options: Self.options()) }
        }
        #expect(!FileManager.default.fileExists(atPath: DatasetExport.folder(ws)))
    }

    @Test func outputsDoNotDependOnWhichOtherPhotosExist() throws {
        let (dump, ws) = try Self.prepared()
        defer { Support.remove(dump, ws) }
        _ = try AugmentWorkspace.run(workspace: ws, options: Self.options())
        let full = try Self.hashes(ws)
        var records = try JSONLines.read(Record.self, from: Workspace.manifest(ws))
        let removed = records.removeFirst()
        try JSONLines.write(records, to: Workspace.manifest(ws))
        _ = try AugmentWorkspace.run(workspace: ws, options: Self.options())
        let fewer = try Self.hashes(ws)
        for (file, hash) in fewer where file.hasSuffix(".jpg") { #expect(full[file] == hash, "\(file)") }
        #expect(fewer.keys.filter { $0.contains(removed.id.prefix(16)) }.isEmpty)
    }

    @Test func onlyTrainingIsAugmentedAndCopiesStayInTheirSplit() throws {
        let (dump, ws) = try Self.prepared()
        defer { Support.remove(dump, ws) }
        let s = try AugmentWorkspace.run(workspace: ws, options: Self.options())
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
        _ = try AugmentWorkspace.run(workspace: ws, options: Self.options())
        let out = try JSONLines.read(DatasetRecord.self, from: DatasetExport.folder(ws) + "/manifest.jsonl")
        for r in out { #expect(try DatasetExport.replay(workspace: ws, file: r.file), "\(r.file)") }
    }

    @Test func padPolicyKeepsTheWholePhoto() throws {
        let (dump, ws) = try Self.prepared(count: 12)
        defer { Support.remove(dump, ws) }
        var o = Self.options()
        o.policy = .pad
        o.copies = 0
        _ = try AugmentWorkspace.run(workspace: ws, options: o)
        let out = try JSONLines.read(DatasetRecord.self, from: DatasetExport.folder(ws) + "/manifest.jsonl")
        let image = try ImageDecoder.decode(file: DatasetExport.folder(ws) + "/" + out[0].file).image
        #expect(image.width == 32 && image.height == 32)
        // A 3:4 photo padded to a square: black bars left and right.
        let portrait = try ImageDecoder.decode(file: dump + "/" + out[0].source).image
        let edge = portrait.width < portrait.height ? image[16, 0, 0] : image[0, 16, 0]
        #expect(edge < 12)
    }
}
