import FacetSynth
import Foundation
import Testing
@testable import FacetData
import FacetLearn
@testable import FacetPipeline

@Suite struct EngineTests {
    static func states(_ outcomes: [StageOutcome]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: outcomes.map { ($0.stage.rawValue, $0.state.rawValue) })
    }

    @Test func aSecondRunIsANoOpAndOneAugmentParameterRerunsAugmentOnly() throws {
        let root = try Support.project()
        let first = try Support.pipeline(root).run()
        #expect(first.allSatisfy { $0.state == .ran })
        let dataset = try Support.hashes(root + "/ws/dataset")
        #expect(dataset.count > 18)
        let lock = try String(contentsOfFile: root + "/Manifests/t.lock", encoding: .utf8)

        let second = try Support.pipeline(root).run()
        #expect(second.allSatisfy { $0.state == .fresh })
        #expect(try String(contentsOfFile: root + "/Manifests/t.lock", encoding: .utf8) == lock)
        #expect(try Support.hashes(root + "/ws/dataset") == dataset)
        #expect(try Support.pipeline(root).status().allSatisfy { $0.state == "fresh" })

        let changed = try Support.pipeline(root, ["augment.seed=8"])
        let status = try changed.status()
        #expect(status.map(\.state) == ["fresh", "fresh", "fresh", "fresh", "stale"])
        #expect(status.last!.reasons == ["parameter seed changed 7 → 8"])
        let third = try changed.run()
        #expect(Self.states(third) == ["ingest": "fresh", "tag": "fresh", "label": "fresh", "split": "fresh", "augment": "ran"])
        let after = try Support.hashes(root + "/ws/dataset")
        #expect(after != dataset)
        // Unaugmented images (copy 0 and the val/test photos) do not depend on the seed.
        #expect(after.filter { $0.key.hasSuffix("-0.jpg") } == dataset.filter { $0.key.hasSuffix("-0.jpg") })

        // Back to the first parameters: every photo comes from the per-photo cache, same bytes as at first.
        let back = try Support.pipeline(root).run()
        #expect(back.last!.state == .ran && back.last!.work == 0)
        #expect(try Support.hashes(root + "/ws/dataset") == dataset)
    }

    @Test func aTagParameterRetagsWithoutDecodingAndLabelStaysFresh() throws {
        let root = try Support.project()
        _ = try Support.pipeline(root).run()
        let p = try Support.pipeline(root, ["tag.lighting.dim_below=0.5"])
        #expect(try p.status().first { $0.stage == "tag" }!.reasons == ["parameter lighting.dim_below changed 0.35 → 0.5"])
        let outcomes = try p.run()
        #expect(Self.states(outcomes)["ingest"] == "fresh" && Self.states(outcomes)["tag"] == "ran" && Self.states(outcomes)["label"] == "fresh")
        // The split moves photos only through its inputs; the augment stage renders no photo again
        // unless a photo moved into or out of the augmented split.
        let manifest = try JSONLines.read(Record.self, from: root + "/ws/manifest.jsonl")
        #expect(manifest.allSatisfy { $0.conditions != nil && $0.split != nil && $0.label != nil })
    }

    /// `tag.occlusion.model` names a learned tagger: the tag stage reruns (nothing else upstream),
    /// every occlusion value comes from its probability, and the file's bytes are an input.
    @Test func aLearnedOcclusionTaggerNamedByThePipelineIsUsedAndItsBytesAreAnInput() throws {
        let root = try Support.project()
        _ = try Support.pipeline(root).run()
        let faces = Ingest.faces(workspace: root + "/ws").sorted { $0.key < $1.key }
        var settings = OcclusionTagger.Settings()
        settings.epochs = 2
        let tagger = try OcclusionTagger.train(faces.map(\.value), partial: faces.indices.map { $0 % 2 == 0 }, settings: settings)
        try tagger.save(root + "/occlusion.safetensors")
        let p = try Support.pipeline(root, ["tag.occlusion.model=occlusion.safetensors"])
        let outcomes = try p.run()
        #expect(Self.states(outcomes)["ingest"] == "fresh" && Self.states(outcomes)["tag"] == "ran" && Self.states(outcomes)["label"] == "fresh")
        let expected = Dictionary(uniqueKeysWithValues: zip(faces.map(\.key), tagger.scores(faces.map(\.value))))
        let records = try JSONLines.read(Record.self, from: root + "/ws/manifest.jsonl")
        #expect(!records.isEmpty && records.allSatisfy { r in
            let o = r.conditions!.occlusion, p = expected[r.id]!
            return o.score == (p * 10000).rounded() / 10000 && o.value == (p >= 0.5 ? "partial" : "none")
        })

        settings.seed = 1
        try OcclusionTagger.train(faces.map(\.value), partial: faces.indices.map { $0 % 3 == 0 }, settings: settings).save(root + "/occlusion.safetensors")
        let tag = try Support.pipeline(root, ["tag.occlusion.model=occlusion.safetensors"]).status().first { $0.stage == "tag" }!
        #expect(tag.state == "stale" && tag.reasons == ["file \(root)/occlusion.safetensors changed"])
    }

    /// `count` new photos from another synth dump, in the class folders of the project's dump.
    static func addPhotos(_ root: String, count: Int) throws {
        let more = Support.temp("more")
        defer { try? FileManager.default.removeItem(atPath: more) }
        try Support.synth(more, count: count, seed: 99, extras: 0)
        let truth = try String(contentsOfFile: more + "/truth.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        for (i, row) in truth.enumerated() {
            let file = String(row.split(separator: ",")[0]), label = String(row.split(separator: ",")[1])
            let folder = root + "/raw/" + (label == "normal" ? "neutral" : label) + "/added"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: more + "/" + file, toPath: folder + "/new\(i)." + (file as NSString).pathExtension)
        }
    }

    /// The augment cache is one index file, a line appended per photo once its images are stored:
    /// a line cut short (a kill mid-write) costs that one photo's rendering again, the next line
    /// still starts on its own, and the dataset equals one built from nothing. The per-photo files
    /// of the earlier layout are removed. (The stage's shard memo goes too, or the shard of the
    /// photo whose line was cut would be taken whole from it, and the index not asked.)
    @Test func aCutShortAugmentIndexLineCostsOnePhoto() throws {
        let root = try Support.project(count: 12)
        _ = try Support.pipeline(root).run()
        let index = root + "/ws/cache/augment.jsonl", legacy = root + "/ws/cache/augment/ab"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: index))
        let photos = bytes.filter { $0 == 0x0A }.count
        bytes.removeLast(30)
        try bytes.write(to: URL(fileURLWithPath: index))
        try FileManager.default.createDirectory(atPath: legacy, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: legacy + "/ab01.json"))
        try FileManager.default.removeItem(atPath: root + "/ws/cache/shards/augment.jsonl")
        try Self.addPhotos(root, count: 1)
        let run = try Support.pipeline(root).run()
        #expect(run.first { $0.stage == .augment }!.work == 2)
        let lines = try Data(contentsOf: URL(fileURLWithPath: index)).withUnsafeBytes {
            JSONLines.readEach(AugmentCache.Line.self, $0.bindMemory(to: UInt8.self))
        }
        #expect(lines.count == photos + 2)
        #expect(lines.filter { (try? $0.get()) == nil }.count == 1)
        #expect(!FileManager.default.fileExists(atPath: root + "/ws/cache/augment"))
        _ = try Support.pipeline(root, ["workspace=fresh", "lock=fresh.lock"]).run()
        // (Left behind before: `.augment.json.tmp`, a rename onto a link of the same file doing nothing.)
        #expect(try Support.hashes(root + "/ws/dataset") == (try Support.hashes(root + "/fresh/dataset")))
    }

    @Test func addedPhotosCostOnlyThemselves() throws {
        let root = try Support.project(count: 18)
        let first = try Support.pipeline(root).run()
        #expect(first.first { $0.stage == .ingest }!.work > 18)
        try Self.addPhotos(root, count: 3)
        let status = try Support.pipeline(root).status()
        #expect(status[0].reasons == ["the dump changed: 3 files added, 0 removed, 0 changed"], "\(status[0])")
        let before = try JSONLines.read(Record.self, from: root + "/ws/manifest.jsonl")
        let second = try Support.pipeline(root).run()
        #expect(second.first { $0.stage == .ingest }!.work == 3)
        #expect(second.first { $0.stage == .augment }!.work == 3)
        let after = try JSONLines.read(Record.self, from: root + "/ws/manifest.jsonl")
        #expect(after.count == before.count + 3)
        // Stable split: no earlier photo moved.
        let splitOf = Dictionary(uniqueKeysWithValues: after.map { ($0.id, $0.split) })
        #expect(before.allSatisfy { splitOf[$0.id] == $0.split })
    }

    /// A copy set aside by ingest votes on its original's label, in the pipeline's label shards as
    /// in `facet label` over the whole workspace: a copy under another class's folder makes its
    /// original a conflict, left unlabelled.
    @Test func aCopyUnderAnotherClassMakesItsOriginalAConflict() throws {
        let root = try Support.project(count: 18)
        _ = try Support.pipeline(root).run()
        let original = "happy/2024-03-01/IMG_0013.jpg", copy = "sad/2024-03-01/IMG_0013 copy.jpg"
        try FileManager.default.copyItem(atPath: root + "/raw/" + original, toPath: root + "/raw/" + copy)
        let label = try Support.pipeline(root).run().first { $0.stage == .label }!.note
        #expect(label.contains(", 1 conflicts"), "\(label)")
        let records = try JSONLines.read(Record.self, from: root + "/ws/manifest.jsonl")
        #expect(records.contains { $0.source == original })
        #expect(records.first { $0.source == original }?.label == nil)
        #expect(!records.contains { $0.source == copy })
        // The same labels as `facet label` gives the whole dump.
        let ws = Support.temp("manual")
        defer { try? FileManager.default.removeItem(atPath: ws) }
        _ = try Ingest.run(dump: root + "/raw", workspace: ws)
        let whole = try Labeling.run(workspace: ws, options: LabelOptions())
        #expect(whole.conflicts.count == 1)
        let labels = Dictionary(uniqueKeysWithValues: try JSONLines.read(Record.self, from: ws + "/manifest.jsonl").map { ($0.source, $0.label) })
        #expect(records.allSatisfy { labels[$0.source] == .some($0.label) })
    }

    @Test func thePipelineDatasetEqualsTheStandaloneCommands() throws {
        let root = try Support.project()
        let p = try Support.pipeline(root)
        _ = try p.run()
        // The same steps by hand, through the entry points the subcommands use.
        let ws = Support.temp("manual")
        _ = try Ingest.run(dump: root + "/raw", workspace: ws)
        _ = try Tagging.run(workspace: ws, thresholds: TagThresholds())
        _ = try Labeling.run(workspace: ws, options: LabelOptions())
        guard let s = (p.manifest.stages[.split]!.stage as? SplitStage)?.options, let a = (p.manifest.stages[.augment]!.stage as? AugmentStage)?.options else {
            Issue.record("options"); return
        }
        _ = try Splitting.run(workspace: ws, options: s)
        _ = try AugmentWorkspace.run(workspace: ws, options: a)
        #expect(try Support.hashes(ws + "/dataset") == Support.hashes(root + "/ws/dataset"))
        #expect(try JSONLines.read(Record.self, from: ws + "/manifest.jsonl") == JSONLines.read(Record.self, from: root + "/ws/manifest.jsonl"))
    }

    /// A fresh clone or a copy of the dump has new modification times; the lock must not care.
    @Test func newModificationTimesKeepEveryStageFresh() throws {
        let root = try Support.project(count: 6)
        _ = try Support.pipeline(root).run()
        let lock = try String(contentsOfFile: root + "/Manifests/t.lock", encoding: .utf8)
        let later = Date().addingTimeInterval(3600)
        for rel in FileManager.default.subpaths(atPath: root + "/raw")! {
            try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: root + "/raw/" + rel)
        }
        let outcomes = try Support.pipeline(root).run()
        // The files are read and hashed again (their stat changed); their content has not, so nothing runs.
        #expect(outcomes.allSatisfy { $0.state == .fresh })
        #expect(try String(contentsOfFile: root + "/Manifests/t.lock", encoding: .utf8) == lock)
    }

    @Test func aSecondRunOnTheSameWorkspaceIsRefused() throws {
        let root = try Support.project(count: 6)
        let held = try RunLock(workspace: root + "/ws")
        #expect(throws: PipelineBusy.self) { try Support.pipeline(root).run() }
        withExtendedLifetime(held) {}
    }

    @Test func aDeletedDatasetIsRebuiltFromTheStoreWithoutRendering() throws {
        let root = try Support.project(count: 8)
        _ = try Support.pipeline(root).run()
        let dataset = try Support.hashes(root + "/ws/dataset")
        try FileManager.default.removeItem(atPath: root + "/ws/dataset")
        let again = try Support.pipeline(root).run()
        #expect(again.allSatisfy { $0.state == .fresh })
        #expect(try Support.hashes(root + "/ws/dataset") == dataset)
    }

    /// A dataset found complete is stamped (its folders' times), once those times are two seconds
    /// old; while the stamp matches, a run does not look for each image, and an image deleted
    /// since changes its folder's time, so the next run finds it gone and puts it back.
    @Test func aStampedDatasetStillNoticesADeletedImage() throws {
        let root = try Support.project(count: 8)
        _ = try Support.pipeline(root).run()
        let dataset = root + "/ws/dataset", stamp = DatasetStamp.path(root + "/ws")
        let hashes = try Support.hashes(dataset)
        #expect(DatasetStamp.take(dataset, manifestHash: String(repeating: "0", count: 64)) == nil, "folders just written")
        Thread.sleep(forTimeInterval: 2.1)
        _ = try Support.pipeline(root).run()
        let taken = try #require(DatasetStamp.read(root + "/ws"))
        #expect(taken.matches(dataset))
        let image = try #require(Self.tree(dataset).first { $0.hasSuffix(".jpg") })
        try FileManager.default.removeItem(atPath: dataset + "/" + image)
        #expect(!taken.matches(dataset))
        let again = try Support.pipeline(root).run()
        #expect(again.allSatisfy { $0.state == .fresh })
        #expect(try Support.hashes(dataset) == hashes)
        #expect(!FileManager.default.fileExists(atPath: stamp), "the stale stamp went, and none is taken of folders just changed")
    }

    @Test func aBrokenSheetOrUnknownLabelFailsTheStageAndKeepsTheLock() throws {
        let root = try Support.project(count: 6)
        _ = try Support.pipeline(root).run()
        let lock = try String(contentsOfFile: root + "/Manifests/t.lock", encoding: .utf8)
        // Folders one level down are day folders, not classes: the label stage must refuse, naming them.
        let p = try Support.pipeline(root, ["label.level=1"])
        #expect { try p.run() } throws: { "\($0)".contains("values outside the classes") }
        #expect(try String(contentsOfFile: root + "/Manifests/t.lock", encoding: .utf8) == lock)
    }
}

extension EngineTests {
    /// Every file and folder under `folder`, folders marked with a trailing slash.
    static func tree(_ folder: String) -> [String] {
        var out: [String] = []
        let walker = FileManager.default.enumerator(atPath: folder)!
        while let rel = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: folder + "/" + rel, isDirectory: &isDir)
            out.append(rel + (isDir.boolValue ? "/" : ""))
        }
        return out.sorted()
    }

    /// The dataset folder brought up to date in place (photos gone, copies changed) holds exactly
    /// what one built from nothing holds; a folder left without its manifest (a run killed while
    /// updating it) is rebuilt whole, stray files and all.
    @Test func theDatasetFolderUpdatedInPlaceEqualsOneBuiltWhole() throws {
        let root = try Support.project(count: 24)
        _ = try Support.pipeline(root).run()
        let dataset = root + "/ws/dataset"
        let before = Self.tree(dataset)
        // All the photos of one capture day go, and the copies change.
        let raw = root + "/raw"
        let gone = try FileManager.default.subpathsOfDirectory(atPath: raw).filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".JPG") }.sorted().prefix(5)
        for f in gone { try FileManager.default.removeItem(atPath: raw + "/" + f) }
        _ = try Support.pipeline(root, ["augment.copies=1"]).run()
        let updated = Self.tree(dataset), updatedHashes = try Support.hashes(dataset)
        #expect(updated != before)
        try FileManager.default.removeItem(atPath: dataset)
        _ = try Support.pipeline(root, ["augment.copies=1"]).run()
        #expect(Self.tree(dataset) == updated)
        #expect(try Support.hashes(dataset) == updatedHashes)
        #expect(!Self.tree(dataset).contains { $0.hasPrefix(".") || $0.contains("/.") })

        try FileManager.default.removeItem(atPath: dataset + "/manifest.jsonl")
        try Data("stray".utf8).write(to: URL(fileURLWithPath: dataset + "/train/stray.txt"))
        _ = try Support.pipeline(root, ["augment.copies=1"]).run()
        #expect(Self.tree(dataset) == updated)
        #expect(try Support.hashes(dataset) == updatedHashes)
    }
}
