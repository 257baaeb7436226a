import FacetCore
import FacetData
import Foundation
import Testing
@testable import FacetLabel

/// The label book under the app: every action on disk at once, undo and redo as far as the
/// history goes, a restart that finds everything, a stale save refused.
@Suite struct LabelBookTests {
    static func folder() -> String {
        let f = NSTemporaryDirectory() + "facet-label-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true)
        return f
    }

    static let photos = (0..<6).map { (id: "id\($0)", source: "raw/IMG_\($0).jpg") }

    static func book(_ f: String) throws -> LabelBook {
        try LabelBook(photos: photos, classes: ["happy", "normal", "sad"], sheet: f + "/labels.csv", history: f + "/labels.history.jsonl")
    }

    static func sheet(_ f: String) throws -> [String: String] {
        let s = try Sheet(path: f + "/labels.csv")
        return Dictionary(uniqueKeysWithValues: s.rows.map { ($0["file"]!, $0["label"]!) })
    }

    @Test func everyActionIsOnDiskAndUndoRedoWalkTheHistory() throws {
        let f = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: f) }
        let b = try Self.book(f)
        try b.set(["id0"], to: "happy", seen: ["id0": 0])
        try b.set(["id1", "id2"], to: "sad", seen: [:])
        try b.set(["id0"], to: "normal", seen: ["id0": 1])
        try b.set(["id3"], to: "discard", seen: [:])
        #expect(try Self.sheet(f) == ["raw/IMG_0.jpg": "normal", "raw/IMG_1.jpg": "sad", "raw/IMG_2.jpg": "sad", "raw/IMG_3.jpg": "discard"])
        // Undo three actions, back to the first one's state; redo one.
        #expect(try b.undo()?.map(\.new) == [nil])
        #expect(try b.undo()?.map(\.new) == ["happy"])
        #expect(try b.undo()?.map(\.new) == [nil, nil])
        #expect(try Self.sheet(f) == ["raw/IMG_0.jpg": "happy"])
        #expect(try b.redo()?.map(\.new) == ["sad", "sad"])
        #expect((b.canUndo, b.canRedo) == (2, 2))
        #expect(try Self.sheet(f) == ["raw/IMG_0.jpg": "happy", "raw/IMG_1.jpg": "sad", "raw/IMG_2.jpg": "sad"])
        // A new action clears what could be redone.
        try b.set(["id5"], to: "happy", seen: [:])
        #expect(b.canRedo == 0)
        #expect(try b.redo() == nil)
        let lines = try String(contentsOfFile: f + "/labels.history.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 9 && lines.allSatisfy { $0.contains("\"time\"") })

        // A restart reads the sheet and replays the history: same labels, same undo and redo.
        let again = try Self.book(f)
        #expect(Self.photos.map { again.label($0.id) } == Self.photos.map { b.label($0.id) })
        #expect((again.canUndo, again.canRedo) == (3, 0))
        #expect(try again.undo()?.map(\.id) == ["id5"])
        #expect(try again.undo()?.map(\.id) == ["id1", "id2"])
        #expect(try Self.sheet(f) == ["raw/IMG_0.jpg": "happy"])
    }

    @Test func aStaleSaveAndAnUnknownValueAreRefused() throws {
        let f = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: f) }
        let tab1 = try Self.book(f)
        try tab1.set(["id0"], to: "happy", seen: ["id0": 0])
        // A second tab that saw id0 before that change.
        #expect(throws: LabelBook.Refusal.self) { try tab1.set(["id0"], to: "sad", seen: ["id0": 0]) }
        #expect(tab1.label("id0") == "happy")
        #expect(throws: LabelBook.Refusal.self) { try tab1.set(["id1"], to: "angry", seen: [:]) }
        #expect(throws: LabelBook.Refusal.self) { try tab1.set(["nobody"], to: "sad", seen: [:]) }
        #expect(try Self.sheet(f) == ["raw/IMG_0.jpg": "happy"])
    }

    /// Killed between the history line and the sheet: the next start finishes the action; a line
    /// cut short at the end is dropped. Rows of photos not in the workspace stay in the sheet.
    @Test func aKillMidActionLosesNothing() throws {
        let f = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: f) }
        try "file,label\nraw/IMG_0.jpg,happy\nelsewhere/x.jpg,sad\n".write(toFile: f + "/labels.csv", atomically: true, encoding: .utf8)
        let b = try Self.book(f)
        try b.set(["id1"], to: "normal", seen: [:])
        // The sheet as it was before that action, as if the server died before rewriting it.
        try "file,label\nraw/IMG_0.jpg,happy\nelsewhere/x.jpg,sad\n".write(toFile: f + "/labels.csv", atomically: true, encoding: .utf8)
        try FileSystem.append(Array("{\"changes\":[{\"id\":\"id2\",\"ne".utf8), to: f + "/labels.history.jsonl")
        let again = try Self.book(f)
        #expect(again.label("id1") == "normal" && again.label("id2") == nil)
        #expect(try Self.sheet(f) == ["raw/IMG_0.jpg": "happy", "raw/IMG_1.jpg": "normal", "elsewhere/x.jpg": "sad"])
        #expect(try again.undo()?.map(\.new) == [nil])
    }
}
