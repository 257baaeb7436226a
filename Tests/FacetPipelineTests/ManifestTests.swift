import Foundation
import Testing
@testable import FacetData
@testable import FacetPipeline

@Suite struct ManifestTests {
    static func problems(_ yaml: String, overrides: [String] = []) -> [String] {
        let dir = Support.temp("m")
        try! FileManager.default.createDirectory(atPath: dir + "/raw", withIntermediateDirectories: true)
        do {
            _ = try PipelineManifest.parse(yaml, file: dir + "/p.yaml", overrides: overrides)
            return []
        } catch let e as ManifestError {
            return e.issues.map { "\($0.line):\($0.column): \($0.message)" }
        } catch {
            return ["\(error)"]
        }
    }

    static let good = """
    name: t
    source: raw
    workspace: ws
    stages:
      ingest: {}
      tag: {}
      label: {from: folders}
      split: {test: 0.25, val: 0.2}
      augment: {size: 32, ops: [{hflip: {p: 0.5}}, {vflip: {p: 0.5}}, {gaussian_blur: {sigma: [0.1, 2.0]}},
                                {color_jitter: {brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1}}]}
    """

    /// The face and group keys: each form accepted, each mistake named where it is.
    @Test func faceAndGroupKeysAreChecked() {
        func with(_ ingest: String, _ split: String) -> String {
            Self.good.replacingOccurrences(of: "ingest: {}", with: "ingest: \(ingest)").replacingOccurrences(of: "split: {test: 0.25, val: 0.2}", with: "split: \(split)")
        }
        for (ingest, split) in [("{faces: true}", "{group_by: taken_day}"), ("{faces: {upsample: 2, threshold: -1}}", "{group_by: {path: '^([A-Z]{2})\\.'}}"),
                                ("{faces: {upsample: auto}}", "{test: 0.2}"), ("{faces: false}", "{}")] {
            #expect(Self.problems(with(ingest, split)).isEmpty, "\(ingest) \(split)")
        }
        #expect(Self.problems(with("{faces: {upsample: 3}}", "{}")).contains { $0.contains("ingest.faces.upsample must be in 0…2") })
        #expect(Self.problems(with("{faces: {side: 10}}", "{}")).contains { $0.contains("ingest.faces.side must be in 64…4096") })
        #expect(Self.problems(with("{}", "{group_by: weekday}")).contains { $0.contains("split.group_by must be taken_day") })
        #expect(Self.problems(with("{}", "{group_by: {path: '(['}}")).contains { $0.contains("not a valid regular expression") })
        #expect(Self.problems(with("{}", "{group_by: {sheet: nowhere.csv, column: person}}")).contains { $0.contains("does not exist") })
        #expect(Self.problems(with("{}", "{group_by: taken_day, stable: true}")).isEmpty)
    }

    @Test func aValidManifestLoadsWithDefaultsFilledIn() throws {
        let dir = Support.temp("ok")
        try FileManager.default.createDirectory(atPath: dir + "/raw", withIntermediateDirectories: true)
        let m = try PipelineManifest.parse(Self.good, file: dir + "/p.yaml")
        #expect(m.source == dir + "/raw" && m.workspace == dir + "/ws" && m.lock == dir + "/Manifests/t.lock")
        #expect(Pipeline(m).order == [.ingest, .tag, .label, .split, .augment])
        guard let o = (m.stages[.augment]!.stage as? AugmentStage)?.options else { Issue.record("augment options"); return }
        #expect(o.size == 32 && o.copies == 1 && o.seed == 2024 && o.ops.count == 4)
        let leaves = m.stages[.augment]!.canonical.leaves()
        #expect(leaves["ops[3].color_jitter.hue"] == .double(0.1))
        #expect(leaves["size"] == .int(32))
        guard let s = (m.stages[.split]!.stage as? SplitStage)?.options else { Issue.record("split options"); return }
        #expect(s.test == .fraction(0.25) && s.seed == 2024)
    }

    @Test func everyProblemIsReportedAtItsLineAndColumn() {
        let yaml = """
        name: t
        source: raw
        workspace: ws
        stages:
          ingest: {max_pixel: 5}
          tag: {overrides: missing.csv}
          label: {from: folder}
          split: {test: 1.5, stratify: [label, lightning]}
          augment:
            size: big
            copies: -1
            ops: [{hflip: {p: 2}}, {gaussian_blur: {kernel: 4}}, {colour_jitter: {}}]
          trian: {}
        """
        let p = Self.problems(yaml)
        #expect(p.contains("5:12: unknown key ingest.max_pixel (did you mean max_pixels?)"), "\(p)")
        #expect(p.contains { $0.hasPrefix("6:20: tag.overrides: file ") && $0.hasSuffix("missing.csv does not exist") }, "\(p)")
        #expect(p.contains("7:17: label.from must be one of folders, sheet, pattern, not \"folder\" (did you mean folders?)"), "\(p)")
        #expect(p.contains { $0.hasPrefix("8:17: split.test must be a count (865) or a fraction in [0, 1)") }, "\(p)")
        #expect(p.contains("8:40: split.stratify: \"lightning\" is not one of label, lighting, background, occlusion (did you mean lighting?)"), "\(p)")
        #expect(p.contains("10:11: augment.size must be a whole number, not \"big\""), "\(p)")
        #expect(p.contains("11:13: augment.copies must be in 0…100, not -1"), "\(p)")
        #expect(p.contains("12:23: augment.ops[0].hflip.p must be in 0.0…1.0, not 2.0"), "\(p)")
        #expect(p.contains("12:53: augment.ops[1].gaussian_blur.kernel must be odd, not 4"), "\(p)")
        #expect(p.contains("12:59: augment.ops[2]: unknown operation colour_jitter (did you mean color_jitter?)"), "\(p)")
        #expect(p.contains("13:3: unknown stage trian (did you mean train?)"), "\(p)")
        #expect(p.count == 11, "\(p)")
    }

    @Test func missingPiecesAndBadYAMLAreErrors() {
        #expect(Self.problems("name: t\nsource: nowhere\nworkspace: ws\nstages: {ingest: {}}").contains { $0.hasPrefix("2:9: source ") && $0.contains("is not a folder") })
        #expect(Self.problems("name: t\nsource: raw\nworkspace: ws\nstages: {augment: {}}").contains { $0.contains("stage augment needs a split stage") })
        #expect(Self.problems("name: t\nsource: raw\nstages: {ingest: {}}").contains { $0.contains("workspace is missing") })
        #expect(Self.problems("name: t\nsource: raw\nworkspace: ws\nstages: {ingest: {}, label: {}, split: {stratify: [lighting]}}")
            .contains { $0.contains("split stratifies by conditions, which needs a tag stage") })
        let bad = Self.problems("name: t\nstages: {ingest: [}\n")
        #expect(bad.count == 1 && bad[0].hasPrefix("2:") && bad[0].contains("not valid YAML"), "\(bad)")
        #expect(Self.problems("name: t\nsource: raw\nworkspace: ws\nstages: {ingest: {}}\nstages: {}").contains { $0.contains("not valid YAML") || $0.contains("twice") })
    }

    @Test func overridesAreValidatedLikeWrittenValues() throws {
        let dir = Support.temp("ov")
        try FileManager.default.createDirectory(atPath: dir + "/raw", withIntermediateDirectories: true)
        let m = try PipelineManifest.parse(Self.good, file: dir + "/p.yaml",
                                           overrides: ["augment.ops[3].color_jitter.hue=0.2", "augment.copies=3", "seed=9", "split.stratify=[label, lighting]"])
        let leaves = m.stages[.augment]!.canonical.leaves()
        #expect(leaves["ops[3].color_jitter.hue"] == .double(0.2) && leaves["copies"] == .int(3) && leaves["seed"] == .int(9))
        guard let s = (m.stages[.split]!.stage as? SplitStage)?.options else { Issue.record("split"); return }
        #expect(s.stratify == ["label", "lighting"] && s.seed == 9)
        #expect(Self.problems(Self.good, overrides: ["augment.ops[3].color_jitter.hue=0.7"]).contains { $0.contains("augment.ops[3].color_jitter.hue must be in 0.0…0.5, not 0.7") })
        #expect(Self.problems(Self.good, overrides: ["augment.ops[9].hflip.p=1"]).contains { $0.contains("past its end") })
        #expect(Self.problems(Self.good, overrides: ["augment.copiess=1"]).contains { $0.contains("unknown key augment.copiess (did you mean copies?)") })
        #expect(Self.problems(Self.good, overrides: ["nonsense"]).contains { $0.contains("expected stage.key=value") })
    }

    @Test func changesNameTheParameterAndBothValues() {
        let a = Value.object(["ops": .array([.object(["color_jitter": .object(["hue": .double(0.1)])])]), "size": .int(224)])
        let b = Value.object(["ops": .array([.object(["color_jitter": .object(["hue": .double(0.2)])])]), "size": .int(224)])
        #expect(b.changes(from: a) == ["ops[0].color_jitter.hue changed 0.1 → 0.2"])
        #expect(Value.object(["p": .int(1)]).changes(from: .object(["p": .double(1)])).isEmpty)
    }

    /// The study's pipeline as committed (`Pipelines/emotion.yaml`) passes validation, given the
    /// dump folder and the two weight files it names (empty here): every stage, in order.
    @Test func theStudysPipelineValidates() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let root = Support.temp("emotion"), fm = FileManager.default
        defer { try? fm.removeItem(atPath: root) }
        for folder in ["Pipelines", "data/raw", "weights"] { try fm.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true) }
        try fm.copyItem(atPath: repo + "/Pipelines/emotion.yaml", toPath: root + "/Pipelines/emotion.yaml")
        for w in ["resnet18-f37072fd.pth", "vgg_face_dag.pth"] { #expect(fm.createFile(atPath: root + "/weights/" + w, contents: Data())) }
        let m = try PipelineManifest.load(root + "/Pipelines/emotion.yaml")
        #expect(m.name == "emotion" && m.source == URL(fileURLWithPath: root + "/data/raw").standardizedFileURL.path)
        #expect(Pipeline(m).order == [.ingest, .tag, .label, .split, .augment, .train, .evaluate, .report])
    }

    /// The cache key of a fixed stage, pinned: an accidental change of the canonical encoding,
    /// the key format or the hashing shows up here (and would silently rerun every pipeline).
    @Test func theKeyOfAFixedStageIsPinned() throws {
        let params = Value.object(["lighting": .object(["dim_below": .double(0.35), "exif_margin": .double(0.05)]),
                                   "copies": .int(1), "splits": .array([.string("train")]), "keep_source": .bool(true), "note": .string("a \"b\"\n")])
        #expect(params.canonical == #"{"copies":1,"keep_source":true,"lighting":{"dim_below":0.35,"exif_margin":0.05},"note":"a \"b\"\n","splits":["train"]}"#)
        let key = Pipeline.key(kind: .tag, version: 1, params: params, inputs: ["ingest.records": String(repeating: "ab", count: 32)])
        #expect(key == "21f778b82c71261a71a31e530487f0943a3b8362304ccee88cc36dfd51dd1f30")
    }
}
