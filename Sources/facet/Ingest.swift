import ArgumentParser
import FacetData

extension Facet {
    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ingest",
            abstract: "Read a raw photo dump into a workspace: manifest, quarantine and duplicates (the dump is only read).")
        @Argument(help: "The photo dump (searched recursively).") var dump: String
        @Option(name: .shortAndLong, help: "Workspace folder for manifest.jsonl, quarantine.jsonl and the cache.") var output: String
        @Option(help: "Near duplicates: most perceptual-hash bits apart (0 turns near-duplicate grouping off).") var nearDistance = 6
        @Option(help: "Group photos taken at most this many seconds apart by one camera (EXIF time); off by default.") var burstSeconds: Int?
        @Option(help: "Quarantine images over this many pixels, before decoding.") var maxPixels = 100_000_000
        @Flag(help: "Look for the face in every photo (dlib), as the pipeline's ingest: {faces: …} does: the record's face, and the issues no_face, several_faces, small_face, face_cut.") var faces = false
        @Option(help: "With --faces: added to dlib's detection threshold (below 0 finds more faces, and more false ones).") var faceThreshold = FaceOptions().threshold

        func validate() throws {
            if nearDistance < 0 || nearDistance > 64 { throw ValidationError("--near-distance must be 0…64") }
            if let b = burstSeconds, b < 0 { throw ValidationError("--burst-seconds cannot be negative") }
        }

        func run() throws {
            var options = IngestOptions()
            options.nearMaxDistance = nearDistance == 0 ? nil : nearDistance
            options.burstSeconds = burstSeconds
            options.maxPixels = maxPixels
            if faces {
                var f = FaceOptions()
                f.threshold = faceThreshold
                if let problem = f.problem ?? FaceFinder.setupProblem(f) { throw ValidationError(problem) }
                options.faces = f
            }
            let progress = Progress(label: "ingest", unit: "files")
            let s = try FacetData.Ingest.run(dump: dump, workspace: output, options: options,
                                             progress: { progress.update($0, of: $1) })
            progress.finish()
            print("\(s.found) files found: \(s.accepted) accepted + \(s.quarantined) quarantined + \(s.duplicates) exact duplicates")
            if faces { print("faces: " + FaceSummary.line(try JSONLines.read(Record.self, from: Workspace.manifest(output)))) }
            print("\(s.groups) groups of near duplicates or bursts; \(s.decoded) files decoded, \(s.reused) from the cache")
            if !s.quarantineReasons.isEmpty {
                print("quarantined: " + s.quarantineReasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                      + " (see \(Workspace.quarantine(output)))")
            }
        }
    }
}
