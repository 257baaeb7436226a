import FacetImage
import Foundation
import Testing

/// The commands on hostile input (issue 24): a strip-shaped photo, a workspace in the dump, label
/// runs that would lose labels or ignore a sheet, sheet rows that match nothing, a full disk.
@Suite struct HostileCommandTests {
    typealias C = CommandTests

    static func workspace(_ tag: String) throws -> (root: String, dump: String, ws: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("facet-hostile-\(tag)-\(UUID())").path
        let dump = root + "/dump", ws = root + "/ws"
        #expect(try C.facet(["synth", dump, "--count", "9", "--size", "64", "--seed", "3", "--extras", "0"]).status == 0)
        return (root, dump, ws)
    }

    static func sources(_ ws: String) throws -> [(source: String, label: String?)] {
        try String(contentsOfFile: ws + "/manifest.jsonl", encoding: .utf8).split(separator: "\n").map { line in
            let o = try C.json(line)
            return (o["source"] as! String, o["label"] as? String)
        }
    }

    @Test func aStripShapedPhotoIsQuarantinedWithItsReason() throws {
        let (root, dump, ws) = try Self.workspace("strip")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data(try ImageEncoder.png(Image(width: 1, height: 60000, fill: 100))).write(to: URL(fileURLWithPath: dump + "/strip.png"))
        let run = try C.facet(["ingest", dump, "-o", ws])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("11 files found: 9 accepted + 2 quarantined"), "\(run.stdout)")  // truth.csv is the other
        let quarantine = try String(contentsOfFile: ws + "/quarantine.jsonl", encoding: .utf8)
        #expect(quarantine.contains("strip.png") && quarantine.contains("extreme aspect ratio 1:60000"), "\(quarantine)")
    }

    @Test func aPhotoWhoseNameIsNotUTF8IsKeptAndReadAgain() throws {
        let (root, dump, ws) = try Self.workspace("bytes")
        defer { try? FileManager.default.removeItem(atPath: root) }
        // "café.jpg" as Latin-1 wrote it: the byte 0xE9 alone is not UTF-8.
        var pixels = [UInt8](repeating: 0, count: 64 * 64 * 3)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i * 7 / 3) }
        let bytes = try ImageEncoder.jpeg(Image(width: 64, height: 64, pixels: pixels))
        let name: [CChar] = Array((dump + "/happy/caf").utf8CString.dropLast()) + [CChar(bitPattern: 0xE9)] + Array(".jpg".utf8CString)
        let fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        #expect(fd >= 0)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let run = try C.facet(["ingest", dump, "-o", ws])
        #expect(run.status == 0 && run.stdout.contains("11 files found: 10 accepted + 1 quarantined"), "\(run.stdout)\(run.stderr)")
        let kept = try Self.sources(ws).map(\.source).filter { $0.hasPrefix("happy/caf") }
        #expect(kept == ["happy/caf\u{10FFE9}.jpg"], "\(kept)")
        // Labelled from its folder, split, and read again from the dump by augment under its own bytes.
        #expect(try C.facet(["label", ws]).stdout.contains("labelled 10"))
        #expect(try C.facet(["split", ws, "--test", "3", "--val", "2"]).status == 0)
        let augment = try C.facet(["augment", ws, "--size", "32", "--splits", "train", "val", "test"])
        #expect(augment.status == 0 && augment.stdout.contains("to \(ws)/dataset"), "\(augment.stdout)\(augment.stderr)")
        let csv = try String(contentsOfFile: ws + "/dataset/manifest.csv", encoding: .utf8)
        #expect(csv.contains("happy/caf\u{10FFE9}.jpg"), "\(csv)")
    }

    @Test func aLabelOrSourceEditedToClimbOutOfTheWorkspaceIsRefused() throws {
        let (root, dump, ws) = try Self.workspace("climb")
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try C.facet(["ingest", dump, "-o", ws]).status == 0)
        #expect(try C.facet(["label", ws]).status == 0)
        #expect(try C.facet(["split", ws, "--test", "3", "--val", "2"]).status == 0)
        let manifest = try String(contentsOfFile: ws + "/manifest.jsonl", encoding: .utf8)
        for (from, to, says) in [(#""label":"happy""#, #""label":"../../../x""#, #"label "../../../x" holds a "/""#),
                                 (#""source":"happy/"#, #""source":"../../happy/"#, "climbs out of its folder")] {
            try manifest.replacingOccurrences(of: from, with: to).write(toFile: ws + "/manifest.jsonl", atomically: true, encoding: .utf8)
            let run = try C.facet(["augment", ws, "--size", "32"])
            #expect(run.status == 1 && run.stderr.contains(says), "\(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/x") && !FileManager.default.fileExists(atPath: ws + "/dataset"))
    }

    @Test func ingestNeverWritesIntoTheDump() throws {
        let (root, dump, _) = try Self.workspace("into")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: dump)
        let before = try FileManager.default.subpathsOfDirectory(atPath: dump).sorted()
        for out in [dump, dump + "/ws", root + "/link", root + "/link/ws", root] {
            let run = try C.facet(["ingest", dump, "-o", out])
            #expect(run.status == 1 && run.stderr.contains("the workspace \(out)"), "\(out): \(run.stderr)")
        }
        #expect(try FileManager.default.subpathsOfDirectory(atPath: dump).sorted() == before)
    }

    @Test func labellingNeverLosesLabelsOrASheetSilently() throws {
        let (root, dump, ws) = try Self.workspace("label")
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try C.facet(["ingest", dump, "-o", ws]).status == 0)
        #expect(try C.facet(["label", ws]).stdout.contains("labelled 9"))
        let labelled = try Self.sources(ws)
        #expect(labelled.allSatisfy { $0.label != nil })

        // Folders that name nothing (as on a flat dump) would unlabel every photo: refused, nothing written.
        let flat = try C.facet(["label", ws, "--level", "5"])
        #expect(flat.status == 1, "\(flat.stdout)")
        #expect(flat.stderr.contains("9 photos labelled now would be left without a label (9 get no label from the folders (level 5)"), "\(flat.stderr)")
        #expect(try Self.sources(ws).map(\.label) == labelled.map(\.label))

        // A sheet that says "sad" for every photo, plus a row with a typo: --sheet alone reads it.
        var sheet = "file,label\n" + labelled.map { "\($0.source),sad" }.joined(separator: "\n") + "\nhapy/nothing.jpg,happy\n"
        try sheet.write(toFile: root + "/labels.csv", atomically: true, encoding: .utf8)
        let strict = try C.facet(["label", ws, "--sheet", root + "/labels.csv", "--strict"])
        #expect(strict.status == 1 && strict.stderr.contains("1 rows match no photo (strict): line 11: hapy/nothing.jpg"), "\(strict.stderr)")
        #expect(try Self.sources(ws).map(\.label) == labelled.map(\.label))
        let bySheet = try C.facet(["label", ws, "--sheet", root + "/labels.csv"])
        #expect(bySheet.status == 0 && bySheet.stdout.contains("labelled 9: happy 0, normal 0, sad 9"), "\(bySheet.stdout) \(bySheet.stderr)")
        #expect(bySheet.stdout.contains("sheet rows matching no photo: 1: line 11: hapy/nothing.jpg"), "\(bySheet.stdout)")
        #expect(try Self.sources(ws).allSatisfy { $0.label == "sad" })

        // --sheet with another --from is a usage error, not a silent choice.
        let both = try C.facet(["label", ws, "--from", "folders", "--sheet", root + "/labels.csv"])
        #expect(both.status == 64 && both.stderr.contains("--sheet \(root)/labels.csv is read only with --from sheet"), "\(both.stderr)")

        // A sheet with CR-only line endings reads as the same rows.
        sheet = sheet.replacingOccurrences(of: "\n", with: "\r")
        try sheet.write(toFile: root + "/labels-cr.csv", atomically: true, encoding: .utf8)
        #expect(try C.facet(["label", ws, "--sheet", root + "/labels-cr.csv"]).stdout.contains("sad 9"))

        // Clearing labels on purpose is allowed when asked for.
        let cleared = try C.facet(["label", ws, "--level", "5", "--allow-unlabelling"])
        #expect(cleared.status == 0 && cleared.stdout.contains("unlabelled 9"), "\(cleared.stdout)")
    }

    @Test func thePipelineQuarantinesAStripListsUnmatchedRowsAndKeepsOutOfTheDump() throws {
        let (root, dump, ws) = try Self.workspace("pipeline")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data(try ImageEncoder.png(Image(width: 1, height: 60000, fill: 100))).write(to: URL(fileURLWithPath: dump + "/strip.png"))
        let sources = try String(contentsOfFile: dump + "/truth.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { String($0.split(separator: ",")[0]) }
        let sheet = "file,label\n" + sources.map { "\($0),\($0.split(separator: "/")[0])" }.joined(separator: "\n") + "\nsda/typo.jpg,sad\n"
        try sheet.write(toFile: root + "/labels.csv", atomically: true, encoding: .utf8)
        func yaml(workspace: String) -> String {
            """
            name: h
            source: dump
            workspace: \(workspace)
            stages:
              ingest: {}
              label: {from: sheet, sheet: labels.csv}
            """
        }
        try yaml(workspace: "ws").write(toFile: root + "/p.yaml", atomically: true, encoding: .utf8)
        let run = try C.facet(["run", root + "/p.yaml"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("labels.csv: 1 rows match no photo: line \(sources.count + 2): sda/typo.jpg"), "\(run.stdout)")
        #expect(run.stdout.contains("1 quarantined") || run.stdout.contains("2 quarantined"), "\(run.stdout)")
        let strict = try C.facet(["run", root + "/p.yaml", "-p", "label.strict=true"])
        #expect(strict.status == 1 && strict.stderr.contains("1 rows match no photo (strict): line \(sources.count + 2): sda/typo.jpg"), "\(strict.stderr)")
        _ = ws
        // A workspace that is the dump, through a link: refused before anything runs.
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: dump)
        try yaml(workspace: "link").write(toFile: root + "/q.yaml", atomically: true, encoding: .utf8)
        let before = try FileManager.default.subpathsOfDirectory(atPath: dump).sorted()
        let into = try C.facet(["run", root + "/q.yaml"])
        #expect(into.status == 2 && into.stderr.contains("q.yaml:3:12: the workspace \(root)/link is the photo dump"), "\(into.stderr)")
        #expect(try FileManager.default.subpathsOfDirectory(atPath: dump).sorted() == before)
    }

    @Test func aFullDiskWhileWritingACheckpointIsASentenceNamingTheFile() throws {
        let (root, dump, ws) = try Self.workspace("full")
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try C.facet(["ingest", dump, "-o", ws]).status == 0)
        #expect(try C.facet(["label", ws]).status == 0)
        #expect(try C.facet(["split", ws, "--test", "3", "--val", "2"]).status == 0)
        #expect(try C.facet(["augment", ws, "--size", "32"]).status == 0)
        // A 16 KiB file system of its own (a private mount namespace): the checkpoint cannot fit.
        let full = root + "/full"
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["-m", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs \"$1\" && exec \"$2\" train \"$3\" -o \"$1/model\" --epochs 1 --batch 4",
                             "sh", full, C.binary.path, ws + "/dataset"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(text)")
        #expect(text.contains("\(full)/model/") && text.contains("the disk is full (no space left on the device)"), "\(text)")
        #expect(!text.contains("NSCocoaErrorDomain") && !text.contains("Code=640"), "\(text)")
    }
}
