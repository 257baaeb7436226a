import FacetCore
import Foundation
import Testing
@testable import FacetData
@testable import FacetImage

@Suite struct LabelTests {
    /// A small dump written by hand: distinct pictures in class folders, and whatever a case adds.
    static func dump(_ files: [String: Int]) throws -> String {
        let root = Support.temp("label")
        for (file, seed) in files {
            var image = Image.testPatternForData(width: 48, height: 40)
            for i in stride(from: 0, to: image.pixels.count, by: 7) { image.pixels[i] = UInt8((i * seed) % 256) }
            try AtomicFile.write(try ImageEncoder.png(image.rotated(quarterTurns: seed % 4)), to: root + "/" + file)
        }
        return root
    }

    static func labels(_ ws: String) throws -> [String: String?] {
        Dictionary(uniqueKeysWithValues: try JSONLines.read(Record.self, from: Workspace.manifest(ws)).map { ($0.source, $0.label) })
    }

    @Test func foldersWithAliasesAndCase() throws {
        let root = try Self.dump(["Happiness/a.png": 1, "NEUTRAL/x/b.png": 2, "sad/c.png": 3, "loose.png": 4])
        let ws = Support.temp("ws")
        defer { Support.remove(root, ws) }
        _ = try Ingest.run(dump: root, workspace: ws)
        let s = try Labeling.run(workspace: ws, options: LabelOptions())
        #expect(try Self.labels(ws) == ["Happiness/a.png": "happy", "NEUTRAL/x/b.png": "normal", "sad/c.png": "sad", "loose.png": nil])
        #expect(s.unlabelled == ["loose.png"])
        #expect(s.perClass == ["happy": 1, "normal": 1, "sad": 1])
    }

    /// The folder a label comes from, by level from the top (0, 1) or from the file (−1), non-ASCII names and doubled slashes included.
    @Test func folderLevels() throws {
        let cases: [(Int, String, [String])] = [
            (0, "happy/a.jpg", ["happy"]), (0, "a.jpg", []), (1, "2024/happy/a.jpg", ["happy"]), (1, "happy/a.jpg", []),
            (-1, "2024/trip/sad/a.jpg", ["sad"]), (-2, "2024/trip/sad/a.jpg", ["trip"]), (-4, "x/a.jpg", []),
            (0, "fröhlich/ü.jpg", ["fröhlich"]), (0, "中/a.jpg", ["中"]), (1, "a//b/c.jpg", ["b"]),
        ]
        for (level, path, words) in cases {
            #expect(try Labeling.Lookup(.folders(level: level)).words(for: path) == words, "level \(level): \(path)")
        }
    }

    @Test func unknownLabelsAreAnErrorListingEachValueAndNothingIsWritten() throws {
        let root = try Self.dump(["happy/a.png": 1, "angry/b.png": 2, "angry/c.png": 3, "surprised/d.png": 5])
        let ws = Support.temp("ws")
        defer { Support.remove(root, ws) }
        _ = try Ingest.run(dump: root, workspace: ws)
        let before = try Data(contentsOf: URL(fileURLWithPath: Workspace.manifest(ws)))
        do {
            _ = try Labeling.run(workspace: ws, options: LabelOptions())
            Issue.record("unknown labels accepted")
        } catch let error as DataError {
            #expect(error.description.contains("\"angry\" (2)"))
            #expect(error.description.contains("\"surprised\" (1)"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: Workspace.manifest(ws))) == before)
    }

    @Test func sheetPatternAndDiscard() throws {
        let root = try Self.dump(["p/IMG_happy_1.png": 1, "p/IMG_sad_2.png": 2, "q/IMG_junk_3.png": 3])
        let ws = Support.temp("ws")
        defer { Support.remove(root, ws) }
        _ = try Ingest.run(dump: root, workspace: ws)
        var options = LabelOptions()
        options.source = .pattern("IMG_([a-z]+)_")
        options.discard = ["junk"]
        let s = try Labeling.run(workspace: ws, options: options)
        #expect(s.discarded == ["q/IMG_junk_3.png"])
        #expect(try Self.labels(ws) == ["p/IMG_happy_1.png": "happy", "p/IMG_sad_2.png": "sad"])
        #expect(try JSONLines.read(Record.self, from: Workspace.discarded(ws)).map(\.source) == ["q/IMG_junk_3.png"])

        let sheet = root + "/../labels-\(UUID()).tsv"
        defer { Support.remove(sheet) }
        try "file\tlabel\nIMG_happy_1.png\tSadness\np/IMG_sad_2.png\tneutral\n".write(toFile: sheet, atomically: true, encoding: .utf8)
        options.source = .sheet(path: sheet)
        _ = try Labeling.run(workspace: ws, options: options)
        #expect(try Self.labels(ws) == ["p/IMG_happy_1.png": "sad", "p/IMG_sad_2.png": "normal"])
    }

    @Test func copiesWithDifferentLabelsAreAConflict() throws {
        let root = try Self.dump(["happy/a.png": 1, "sad/b.png": 2])
        let ws = Support.temp("ws")
        defer { Support.remove(root, ws) }
        try FileManager.default.copyItem(atPath: root + "/happy/a.png", toPath: root + "/sad/a-copy.png")
        _ = try Ingest.run(dump: root, workspace: ws)
        let s = try Labeling.run(workspace: ws, options: LabelOptions())
        #expect(s.conflicts.count == 1)
        #expect(s.conflicts.first?.labels == ["happy", "sad"])
        #expect(Set(s.conflicts.first?.sources ?? []) == ["happy/a.png", "sad/a-copy.png"])
        #expect(try Self.labels(ws) == ["happy/a.png": nil, "sad/b.png": "sad"])
    }

    @Test func sheetErrorsNameTheFileAndLine() throws {
        let path = Support.temp("sheet") + ".csv"
        defer { Support.remove(path) }
        try "file,label\na.jpg,happy\nb.jpg\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DataError.self) { try Sheet(path: path) }
        do { _ = try Sheet(path: path) } catch { #expect("\(error)".contains("\(path):3:")) }
        try "file,label\n\"a, b.jpg\",happy\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Sheet(path: path).rows.first?["file"] == "a, b.jpg")
    }

    /// Sheets as people write them (issue 28): other column names, CR-only line endings, a
    /// header whose error stays short, unknown values grouped by spelling, conflicts in the words
    /// as written.
    @Test func sheetsAsPeopleWriteThem() throws {
        let root = try Self.dump(["a.png": 1, "b.png": 2, "c.png": 3, "d.png": 4, "e.png": 5])
        let ws = Support.temp("ws"), sheet = Support.temp("sheet") + ".csv"
        defer { Support.remove(root, ws, sheet) }
        _ = try Ingest.run(dump: root, workspace: ws)
        // A real one: user.id,image,emotion, with CR line endings.
        try "user.id,image,emotion\r628,a.png,HAPPINESS\r628,b.png,Neutral\r629,c.png,sad\r".write(toFile: sheet, atomically: true, encoding: .utf8)
        var o = LabelOptions()
        o.source = .sheet(path: sheet)
        do {
            _ = try Labeling.run(workspace: ws, options: o)
            Issue.record("a sheet without file and label columns was read")
        } catch {
            #expect("\(error)".contains("found \"user.id\", \"image\", \"emotion\"") && "\(error)".contains("--label-column"), "\(error)")
        }
        (o.fileColumn, o.labelColumn) = ("image", "emotion")
        _ = try Labeling.run(workspace: ws, options: o)
        #expect(try Self.labels(ws) == ["a.png": "happy", "b.png": "normal", "c.png": "sad", "d.png": nil, "e.png": nil])

        // A header read as one field (semicolons): the error shows a short part of it.
        let long = (0..<400).map { "column\($0)" }.joined(separator: ";")
        try (long + "\na;b\n").write(toFile: sheet, atomically: true, encoding: .utf8)
        o.fileColumn = nil
        do { _ = try Labeling.run(workspace: ws, options: o) } catch {
            #expect("\(error)".count < 400 && "\(error)".contains("…"), "\(error.localizedDescription.count) characters")
        }

        // Unknown values: one word's spellings together.
        try "image,emotion\na.png,surprise\nb.png,SURPRISE\nc.png,Surprise \nd.png,angry\n".write(toFile: sheet, atomically: true, encoding: .utf8)
        o.fileColumn = "image"
        do { _ = try Labeling.run(workspace: ws, options: o) } catch {
            #expect("\(error)".contains("\"surprise\" (3: ") && "\(error)".contains("SURPRISE 1") && "\(error)".contains("\"angry\" (1)"), "\(error)")
        }

        // A conflict between copies names the words as written.
        try FileManager.default.copyItem(atPath: root + "/a.png", toPath: root + "/a-copy.png")
        let ws2 = Support.temp("ws2")
        defer { Support.remove(ws2) }
        _ = try Ingest.run(dump: root, workspace: ws2)
        try "image,emotion\na.png,Happiness\na-copy.png,sadness\n".write(toFile: sheet, atomically: true, encoding: .utf8)
        let s = try Labeling.run(workspace: ws2, options: o)
        #expect(s.conflicts.first?.labels == ["Happiness", "sadness"])
    }
}
