import Foundation
import Testing

/// `facet run`, `status` and `dag` through the real binary: exit codes, messages, and what a run
/// killed with SIGKILL at any moment leaves for the next run.
@Suite(.serialized) struct PipelineCommandTests {
    typealias C = CommandTests

    /// A folder with a synth dump (`raw`) and a manifest `p.yaml`.
    static func project(count: Int = 16) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("facet-cmd-pipeline-\(UUID())").path
        let synth = try C.facet(["synth", root + "/raw", "--count", "\(count)", "--size", "64", "--seed", "4"])
        #expect(synth.status == 0, "\(synth.stderr)")
        let yaml = """
        name: k
        source: raw
        workspace: ws
        stages:
          ingest: {}
          tag: {}
          label: {from: folders}
          split: {test: 0.25, val: 0.25, stratify: [label]}
          augment: {size: 32, copies: 2, ops: [{hflip: {p: 0.5}}, {vflip: {p: 0.5}}, {gaussian_blur: {sigma: [0.1, 2.0]}},
                                               {color_jitter: {brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1}}]}
        """
        try yaml.write(toFile: root + "/p.yaml", atomically: true, encoding: .utf8)
        return root
    }

    /// Every file of a folder by relative path (datasets here are a few hundred KiB).
    static func files(_ folder: String) -> [String: Data] {
        var out: [String: Data] = [:]
        let walker = FileManager.default.enumerator(atPath: folder)!
        while let rel = walker.nextObject() as? String {
            var dir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: folder + "/" + rel, isDirectory: &dir)
            if !dir.boolValue { out[rel] = FileManager.default.contents(atPath: folder + "/" + rel) }
        }
        return out
    }

    static func count(_ folder: String) -> Int {
        (FileManager.default.enumerator(atPath: folder)?.allObjects.count) ?? 0
    }

    static func lines(_ file: String) -> Int {
        FileManager.default.contents(atPath: file).map { $0.filter { $0 == 0x0A }.count } ?? 0
    }

    @Test func exitCodesAndMessages() throws {
        let root = try Self.project(count: 12)
        let bad = try C.facet(["run", root + "/p.yaml", "-p", "augment.copise=2"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("p.yaml:1:1: unknown key augment.copise (did you mean copies?)"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/ws"))

        let never = try C.facet(["status", root + "/p.yaml"])
        #expect(never.status == 1 && never.stdout.contains("ingest   never run"), "\(never.stdout)")

        let run = try C.facet(["run", root + "/p.yaml"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("k: ran ingest, tag, label, split, augment"), "\(run.stdout)")
        #expect(run.stdout.contains("leakage check: 0 near-duplicate pairs across splits"))
        let again = try C.facet(["run", root + "/p.yaml"])
        #expect(again.status == 0 && again.stdout.contains("every stage fresh; nothing to do"))

        let stale = try C.facet(["status", root + "/p.yaml", "--json", "-p", "augment.ops[3].color_jitter.hue=0.2"])
        #expect(stale.status == 1)
        let last = try C.json(stale.stdout.split(separator: "\n").last!)
        #expect(last["stage"] as? String == "augment" && last["state"] as? String == "stale")
        #expect(last["reasons"] as? [String] == ["parameter ops[3].color_jitter.hue changed 0.1 → 0.2"])

        let dag = try C.facet(["dag", root + "/p.yaml"])
        #expect(dag.status == 0 && dag.stdout.contains("split    ← label + tag"), "\(dag.stdout)")
        let until = try C.facet(["run", root + "/p.yaml", "--until", "tag", "--force", "tag"])
        #expect(until.status == 0 && until.stdout.contains("k: ran tag;"), "\(until.stdout)")
    }

    @Test func reportListsRunsAndComparesThem() throws {
        let root = try Self.project(count: 12)
        let yaml = try String(contentsOfFile: root + "/p.yaml", encoding: .utf8) + """

          train: {epochs: 1, lr: 0.01, batch: 8, width: 4, models: {m: {arch: resnet18}}}
          evaluate: {}
          report: {}
        """
        try yaml.write(toFile: root + "/p.yaml", atomically: true, encoding: .utf8)
        let run = try C.facet(["run", root + "/p.yaml"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("report: \(root)/ws/report/index.html"), "\(run.stdout)")
        #expect(try C.facet(["run", root + "/p.yaml", "-p", "train.epochs=2"]).status == 0)
        let list = try C.facet(["report", root + "/p.yaml"])
        let runs = list.stdout.split(separator: "\n").filter { $0.count > 12 && $0.prefix(12).allSatisfy(\.isHexDigit) && $0.contains("  m ") }
        #expect(list.status == 0 && runs.count == 2 && list.stdout.contains("(newest)"), "\(list.stdout)")
        let names = try FileManager.default.contentsOfDirectory(atPath: root + "/ws/reports")
        let newest = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/ws/report").replacingOccurrences(of: "reports/", with: "")
        let older = names.first { $0 != newest }!
        let diff = try C.facet(["report", root + "/p.yaml", "--compare", older, newest])
        #expect(diff.status == 0 && (diff.stdout.contains("metrics changed") || diff.stdout.contains("no metric changed")), "\(diff.stdout)")
        #expect(diff.stdout.contains("A: \(root)/ws/reports/\(older)/metrics.json"), "\(diff.stdout)")
        let json = try C.facet(["report", "--compare", root + "/ws/reports/\(older)", root + "/ws/report/metrics.json", "--json"])
        let rows = (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["rows"] as? [[String: Any]]
        #expect(json.status == 0 && rows?.contains { $0["model"] as? String == "m" && $0["metric"] as? String == "test accuracy" } == true, "\(json.stdout)")
        let missing = try C.facet(["report", "--compare", root + "/nothing", older])
        #expect(missing.status == 1 && missing.stderr.contains("nothing: no metrics.json there"), "\(missing.stderr)")
    }

    @Test func aSecondRunWhileOneRunsIsRefused() throws {
        let root = try Self.project(count: 40)
        let process = Process()
        process.executableURL = C.binary
        process.arguments = ["run", root + "/p.yaml"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the first run holds the workspace.
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: root + "/ws/.run-lock") && Date() < deadline { usleep(2000) }
        let second = try C.facet(["run", root + "/p.yaml"])
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(second.status == 3, "\(second.stdout) \(second.stderr)")
        #expect(second.stderr.contains("is in use by another facet run (process"), "\(second.stderr)")
    }

    /// Kills `facet run` with SIGKILL once the workspace holds `after` store objects and cache
    /// entries, then runs again: the final dataset and manifest equal an uninterrupted run's.
    @Test func aRunKilledAtAnyPointEndsLikeAnUninterruptedOne() throws {
        let root = try Self.project(count: 16)
        let reference = try C.facet(["run", root + "/p.yaml"])
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = Self.files(root + "/ws/dataset")
        let expectedManifest = FileManager.default.contents(atPath: root + "/ws/manifest.jsonl")
        let expectedLock = FileManager.default.contents(atPath: root + "/Manifests/k.lock")
        #expect(expected.count > 16)

        var killedMidway = 0
        for after in [1, 4, 8, 12, 20, 30, 45] where try Self.killAndRunAgain(root, "ws\(after)", "k\(after).lock", after: after,
                                                                              expecting: (expected, expectedManifest, expectedLock)) {
            killedMidway += 1
        }
        // The kill points must have landed inside runs, or the test shows nothing.
        #expect(killedMidway >= 5, "only \(killedMidway) runs were killed before they ended")
    }

    /// Runs the pipeline on workspace `ws` and lock `lock`, kills it with SIGKILL once the
    /// workspace holds `after` store objects and augment index lines, runs it again, and checks the
    /// dataset, records manifest and lock against `expected`. Whether the kill came before the run ended.
    static func killAndRunAgain(_ root: String, _ ws: String, _ lock: String, after: Int,
                                expecting expected: (dataset: [String: Data], manifest: Data?, lock: Data?)) throws -> Bool {
        let process = Process()
        process.executableURL = C.binary
        process.arguments = ["run", root + "/p.yaml", "-p", "workspace=\(ws)", "-p", "lock=\(lock)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        while process.isRunning && Self.count(root + "/\(ws)/store") + Self.lines(root + "/\(ws)/cache/augment.jsonl") < after { usleep(200) }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let rerun = try C.facet(["run", root + "/p.yaml", "-p", "workspace=\(ws)", "-p", "lock=\(lock)"])
        #expect(rerun.status == 0, "killed after \(after): \(rerun.stderr)")
        #expect(Self.files(root + "/\(ws)/dataset") == expected.dataset, "killed after \(after) objects")
        #expect(FileManager.default.contents(atPath: root + "/\(ws)/manifest.jsonl") == expected.manifest, "killed after \(after)")
        #expect(FileManager.default.contents(atPath: root + "/\(lock)") == expected.lock, "killed after \(after)")
        return killed
    }

    /// The same for a run after photos were added (ingest takes the added files alone): killed at
    /// several points on copies of one workspace, then run again, each ends with the dataset,
    /// manifest and lock of a run from nothing on the grown dump.
    @Test func aRunAfterPhotosWereAddedKilledAtAnyPointEndsLikeAnUninterruptedOne() throws {
        let root = try Self.project(count: 16)
        let fm = FileManager.default
        #expect(try C.facet(["run", root + "/p.yaml"]).status == 0)
        let more = try C.facet(["synth", root + "/more", "--count", "4", "--size", "64", "--seed", "8", "--extras", "0"])
        #expect(more.status == 0, "\(more.stderr)")
        for (i, row) in try String(contentsOfFile: root + "/more/truth.csv", encoding: .utf8).split(separator: "\n").dropFirst().enumerated() {
            let f = row.split(separator: ","), label = f[1] == "normal" ? "neutral" : String(f[1])
            try fm.createDirectory(atPath: root + "/raw/\(label)/added", withIntermediateDirectories: true)
            try fm.copyItem(atPath: root + "/more/" + f[0], toPath: root + "/raw/\(label)/added/new\(i).jpg")
        }
        try fm.removeItem(atPath: root + "/more")
        let reference = try C.facet(["run", root + "/p.yaml", "-p", "workspace=ref", "-p", "lock=ref.lock"])
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = Self.files(root + "/ref/dataset")
        let expectedManifest = fm.contents(atPath: root + "/ref/manifest.jsonl"), expectedLock = fm.contents(atPath: root + "/ref.lock")
        // Uninterrupted, on a copy: the added files alone are looked at, and it ends as the reference.
        try fm.copyItem(atPath: root + "/ws", toPath: root + "/wsA")
        try fm.copyItem(atPath: root + "/Manifests/k.lock", toPath: root + "/kA.lock")
        let alone = try C.facet(["run", root + "/p.yaml", "-p", "workspace=wsA", "-p", "lock=kA.lock"])
        #expect(alone.status == 0 && alone.stdout.contains("only the 4 files added were looked at"), "\(alone.stdout)")
        #expect(Self.files(root + "/wsA/dataset") == expected && fm.contents(atPath: root + "/kA.lock") == expectedLock)
        let before = Self.count(root + "/ws/store") + Self.lines(root + "/ws/cache/augment.jsonl")
        var killedMidway = 0
        for after in [1, 3, 6, 10, 15, 22, 30] {
            try fm.copyItem(atPath: root + "/ws", toPath: root + "/ws\(after)")
            try fm.copyItem(atPath: root + "/Manifests/k.lock", toPath: root + "/k\(after).lock")
            if try Self.killAndRunAgain(root, "ws\(after)", "k\(after).lock", after: before + after,
                                        expecting: (expected, expectedManifest, expectedLock)) { killedMidway += 1 }
        }
        #expect(killedMidway >= 4, "only \(killedMidway) runs were killed before they ended")
    }
}
