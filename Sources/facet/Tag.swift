import ArgumentParser
import FacetCore
import FacetData
import FacetLearn
import Foundation

extension Facet {
    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tag",
            abstract: "Tag lighting, background and occlusion from the pixels; a sheet can override; --calibrate fits the thresholds.",
            discussion: """
            Thresholds: the defaults, then WORKSPACE/tag-thresholds.json when present, then --thresholds FILE, then the flags.
            --calibrate SHEET (CSV/TSV: file or id, and any of lighting, background, occlusion) fits each threshold to the
            hand-tagged rows, prints the accuracy before and after, and saves the fitted thresholds (to --save-thresholds or
            WORKSPACE/tag-thresholds.json). When the sheet tags at least 20 faces of each occlusion value, it also trains the
            learned occlusion tagger on about four fifths of them (accuracy reported on the rest), then on all of them, and
            saves that beside the thresholds (NAME.occlusion.safetensors); the thresholds file names it, so --thresholds brings it along.
            """)
        @Argument(help: "Workspace written by facet ingest.") var workspace: String
        @Option(help: "Brightness below which lighting is dim.") var dimBelow: Double?
        @Option(help: "Background clutter score at which the background is cluttered.") var clutteredAbove: Double?
        @Option(help: "Occlusion score (asymmetry + 2 × foreign) at which the face counts as partially occluded.") var occludedAbove: Double?
        @Option(help: "A thresholds file written by --calibrate.") var thresholds: String?
        @Option(help: "A condition sheet whose values override the computed ones.") var overrides: String?
        @Option(help: "A hand-tagged condition sheet to fit the thresholds to.") var calibrate: String?
        @Option(help: "Where --calibrate saves the fitted thresholds.") var saveThresholds: String?

        func run() throws {
            var t = TagThresholds()
            let saved = Tagging.thresholdsPath(workspace)
            if calibrate == nil, thresholds == nil, FileManager.default.fileExists(atPath: saved) {
                t = try TagThresholds.load(saved)
                print("thresholds from \(saved)")
            }
            if let thresholds { t = try TagThresholds.load(thresholds) }
            if let dimBelow { t.dimBelow = dimBelow }
            if let clutteredAbove { t.clutteredAbove = clutteredAbove }
            if let occludedAbove { t.occludedAbove = occludedAbove }
            let progress = Progress(label: "tag: training the occlusion tagger", unit: "epochs")
            let s = try Tagging.run(workspace: workspace, thresholds: t, overrides: overrides, calibrate: calibrate,
                                    saveThresholds: saveThresholds, learner: OcclusionTagger.learner, progress: { progress.update($0, of: $1) })
            for (name, c) in s.calibration.sorted(by: { $0.key < $1.key }) {
                if let model = c.model, let held = c.heldOut, let faces = c.faces {
                    print(held == 0
                          ? "calibrated \(name) on \(c.rows) rows: no row held out to measure the learned tagger on; trained on all \(faces) faces, saved to \(model)"
                          : String(format: "calibrated %@ on %d rows: on %d held out, accuracy %.3f with the score and threshold, %.3f with a learned tagger trained on the other %d; the tagger trained on all %d faces saved to %@",
                                   name, c.rows, held, c.before, c.after, faces - held, faces, model))
                } else {
                    print(String(format: "calibrated %@ on %d rows: accuracy %.3f before, %.3f after (threshold %.4f)",
                                 name, c.rows, c.before, c.after, c.threshold))
                }
                if let note = c.note { print("\(name): \(note)") }
            }
            if calibrate != nil { print("thresholds saved to \(saveThresholds ?? saved)") }
            for c in Condition.allCases {
                let counts = s.counts[c.rawValue] ?? [:]
                print("\(c.rawValue): \(counts[c.values.low] ?? 0) \(c.values.low), \(counts[c.values.high] ?? 0) \(c.values.high)")
            }
            if s.learned + s.fallback > 0 {
                print("occlusion from the learned tagger \(s.thresholds.occlusionModel ?? ""): \(s.learned) photos; "
                      + "\(s.fallback) without a face crop tagged by the score and threshold instead"
                      + (s.learned == 0 ? " (no face crops in the workspace: ingested by an older facet? run facet ingest again)" : ""))
            }
            if s.fromSheet > 0 { print("\(s.fromSheet) photos took values from \(overrides!)") }
        }
    }
}
