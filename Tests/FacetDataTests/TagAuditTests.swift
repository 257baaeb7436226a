import Foundation
import Testing
@testable import FacetData

@Suite struct TagAuditTests {
    static func accuracy(_ ws: String, _ truth: [String: Support.TruthRow], _ c: Condition) throws -> Double {
        let records = try JSONLines.read(Record.self, from: Workspace.manifest(ws))
        let right = records.filter { r in
            let t = truth[r.source]!
            let value = [Condition.lighting: r.conditions!.lighting, .background: r.conditions!.background, .occlusion: r.conditions!.occlusion][c]!.value
            return value == [Condition.lighting: t.lighting, .background: t.background, .occlusion: t.occlusion][c]!
        }
        return Double(right.count) / Double(records.count)
    }

    /// Calibrated on one dump, applied to another: lighting and background are read from the pixels.
    @Test func calibrationOnOneDumpTagsAnother() throws {
        let a = try Support.synth("tagA", count: 120, seed: 21, size: 96), b = try Support.synth("tagB", count: 120, seed: 22, size: 96)
        let wa = Support.temp("wa"), wb = Support.temp("wb"), thresholds = Support.temp("thr") + ".json"
        defer { Support.remove(a, b, wa, wb, thresholds) }
        _ = try Ingest.run(dump: a, workspace: wa)
        _ = try Ingest.run(dump: b, workspace: wb)
        let fitted = try Tagging.run(workspace: wb, thresholds: TagThresholds(), calibrate: b + "/truth.csv", saveThresholds: thresholds)
        #expect(fitted.calibration["lighting"]!.after >= fitted.calibration["lighting"]!.before)
        #expect(fitted.calibration["background"]!.after >= 0.95)
        _ = try Tagging.run(workspace: wa, thresholds: try TagThresholds.load(thresholds))
        let truth = try Support.truth(a)
        #expect(try Self.accuracy(wa, truth, .lighting) == 1)
        #expect(try Self.accuracy(wa, truth, .background) >= 0.93)
    }

    @Test func sheetOverridesAndTheAuditFlagsAStrongAssociation() throws {
        let dump = try Support.synth("audit", count: 30, seed: 4, size: 64, extras: 0)
        let ws = Support.temp("ws"), sheet = Support.temp("sheet") + ".csv"
        defer { Support.remove(dump, ws, sheet) }
        let before = try Support.fingerprint(dump)
        _ = try Ingest.run(dump: dump, workspace: ws)
        _ = try Labeling.run(workspace: ws, options: LabelOptions())
        // Every sad photo dim, every other bright: the cue a model would learn.
        let truth = try Support.truth(dump)
        let rows = truth.values.map { "\($0.file),\($0.label == "sad" ? "dim" : "bright")" }.sorted()
        try (["file,lighting"] + rows).joined(separator: "\n").write(toFile: sheet, atomically: true, encoding: .utf8)
        let s = try Tagging.run(workspace: ws, thresholds: TagThresholds(), overrides: sheet)
        #expect(s.fromSheet == 30)
        let records = try JSONLines.read(Record.self, from: Workspace.manifest(ws))
        #expect(records.allSatisfy { $0.conditions?.source == "sheet" && $0.conditions?.lighting.source == "sheet" })
        #expect(records.allSatisfy { $0.conditions?.background.source == "auto" })

        let report = try Audit.run(workspace: ws)
        #expect(report.classes == ["happy": 10, "normal": 10, "sad": 10])
        let lighting = try #require(report.associations.first { $0.condition == "lighting" })
        #expect(lighting.strong && lighting.cramersV == 1)
        #expect(lighting.findings.contains("sad photos are 100% dim (all photos: 33%)"))
        #expect(report.text().contains("STRONG"))
        #expect(try JSONLines.encode(report).contains("\"cramers_v\":1"))
        #expect(try Support.fingerprint(dump) == before, "a subcommand wrote to the dump")
    }

    @Test func badSheetsAreRejectedWithFileAndLine() throws {
        let dump = try Support.synth("bad", count: 3, seed: 4, size: 48, extras: 0)
        let ws = Support.temp("ws"), sheet = Support.temp("sheet") + ".csv"
        defer { Support.remove(dump, ws, sheet) }
        _ = try Ingest.run(dump: dump, workspace: ws)
        try "file,lighting\nx.jpg,dusk\n".write(toFile: sheet, atomically: true, encoding: .utf8)
        do {
            _ = try Tagging.run(workspace: ws, thresholds: TagThresholds(), overrides: sheet)
            Issue.record("accepted lighting=dusk")
        } catch {
            #expect("\(error)".contains("\(sheet):2: lighting must be dim or bright, not \"dusk\""))
        }
    }

    @Test func fitPicksTheBestThreshold() {
        let pairs: [(Double, Bool)] = [(0.1, false), (0.2, false), (0.3, true), (0.25, false), (0.5, true)]
        #expect(abs(Tagging.fit(pairs.map { (score: $0.0, high: $0.1) }, current: 0.9) - 0.275) < 1e-9)
    }
}
