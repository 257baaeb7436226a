import FacetCore
import FacetData
import FacetImage
import Foundation

extension Pipeline {
    /// `WORKSPACE/dataset`: images hard-linked from the store, and the manifests. Left alone when
    /// its manifest matches and every image is there; brought up to date in place when it has a
    /// manifest (only the images that changed are touched, and when it holds the stage's previous
    /// dataset, only those of the shards that changed are read); otherwise built beside it and
    /// swapped in. Which manifest it holds: its stamp's, else the store object its manifest is a
    /// hard link of (as runs leave it), else the hash of its manifest's bytes.
    func materializeDataset(_ outputs: [String: String], previous: [String: String]?, memo: Memo) throws {
        // The photos left out (`crop: face` without a face), beside the images (none: no file);
        // written first, so that a folder found complete below holds it too.
        let lines = try outputs["left_out"].map { try store.get($0) } ?? []
        let final = DatasetExport.folder(manifest.workspace)
        if lines.isEmpty { unlink(final + "/left_out.jsonl") } else if FileSystem.exists(final) { try writeIfChanged(lines, to: final + "/left_out.jsonl") }
        try materializeImages(outputs, previous: previous, memo: memo, leftOut: lines)
    }

    func materializeImages(_ outputs: [String: String], previous: [String: String]?, memo: Memo, leftOut: [UInt8]) throws {
        let final = DatasetExport.folder(manifest.workspace)
        let fm = FileManager.default
        // Untouched since a run found it complete (its stamp): what it held then, it holds now.
        let stamped = DatasetStamp.read(manifest.workspace).flatMap { $0.matches(final) ? $0.manifestHash : nil }
        if stamped == outputs["manifest"] { return }
        // The last run's manifest object itself (a hard link of it, as runs leave it): its bytes, unread.
        let linked = stamped == nil ? previous?["manifest"].flatMap { sameFile(final + "/manifest.jsonl", store.path($0)) ? $0 : nil } : nil
        let current = stamped == nil && linked == nil ? FileSystem.read(final + "/manifest.jsonl") : nil
        let currentHash = stamped ?? linked ?? current.map(Store.hash)
        if currentHash == outputs["manifest"], let old = current.flatMap(Self.images(in:)),
           old.allSatisfy({ FileSystem.exists(final + "/" + $0.file) }) {
            try? DatasetStamp.take(final, manifestHash: currentHash!)?.write(manifest.workspace)
            return
        }
        unlink(DatasetStamp.path(manifest.workspace))
        if let previous, let currentHash, currentHash == previous["manifest"], let was = previous["index"], let now = outputs["index"],
           let before = try? memo.index(was), let after = try? memo.index(now) {
            // Unchanged shards hold the same images under the same names: only the others are compared.
            let (gone, came) = Shards.changes(from: before.map(\.hash), to: after.map(\.hash))
            let old = try store.get(gone).flatMap { Self.images(in: $0) ?? [] }
            let new = try store.get(came.map { after[$0].hash }).flatMap { Self.images(in: $0) ?? [] }
            return try updateDataset(final, from: old, to: new, outputs)
        }
        if let old = (current ?? FileSystem.read(final + "/manifest.jsonl")).flatMap(Self.images(in:)) {
            let made = try memo.dataset[outputs["manifest"]!]?.map { ($0.file, $0.id) } ?? Self.images(in: try store.get(outputs["manifest"]!)) ?? []
            return try updateDataset(final, from: old, to: made, outputs)
        }
        let made = try memo.dataset[outputs["manifest"]!] ?? store.lines(DatasetRecord.self, outputs["manifest"]!)
        let staging = final + ".tmp"
        try? fm.removeItem(atPath: staging)
        for folder in Set(made.map { ($0.file as NSString).deletingLastPathComponent }) {
            try fm.createDirectory(atPath: staging + "/" + folder, withIntermediateDirectories: true)
        }
        for r in made { try store.materialize(r.id, at: staging + "/" + r.file) }
        try store.materialize(outputs["manifest"]!, at: staging + "/manifest.jsonl")
        try store.materialize(outputs["csv"]!, at: staging + "/manifest.csv")
        try store.materialize(outputs["options"]!, at: staging + "/augment.json")
        if !leftOut.isEmpty { try AtomicFile.write(leftOut, to: staging + "/left_out.jsonl") }
        try DatasetExport.swapIn(staging, as: final)
    }

    /// Whether two paths name the same file (one is a hard link of the other).
    func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// Updates a dataset folder in place, from the images `old` (what the folder holds, or the
    /// part of it that may change) to `new` (what that part should hold). Its manifest goes
    /// first — a folder without one is rebuilt whole by the next run, so a run killed here loses
    /// nothing — then images that changed or went, then new ones; folders left empty are removed
    /// (ImageFolder refuses an empty class); the manifests come last, each replaced by a rename.
    func updateDataset(_ final: String, from old: [(file: String, id: String)], to new: [(file: String, id: String)], _ outputs: [String: String]) throws {
        let fm = FileManager.default
        try fm.removeItem(atPath: final + "/manifest.jsonl")
        var had: [String: String] = [:]
        for e in old { had[e.file] = e.id }
        let wanted = Dictionary(new.map { ($0.file, $0.id) }) { a, _ in a }
        for (file, id) in had where wanted[file] != id { unlink(final + "/" + file) }
        var folders = Set<String>()
        for r in new where had[r.file] != r.id || !FileSystem.exists(final + "/" + r.file) {
            let folder = (r.file as NSString).deletingLastPathComponent
            if folders.insert(folder).inserted { try fm.createDirectory(atPath: final + "/" + folder, withIntermediateDirectories: true) }
            unlink(final + "/" + r.file)   // a stray file of that name would stop the link
            try store.materialize(r.id, at: final + "/" + r.file)
        }
        let emptied = Set(had.keys.filter { wanted[$0] == nil }.map { ($0 as NSString).deletingLastPathComponent })
        for folder in emptied.sorted(by: >) {
            var f = folder
            while !f.isEmpty, (try? fm.contentsOfDirectory(atPath: final + "/" + f))?.isEmpty == true {
                try fm.removeItem(atPath: final + "/" + f)
                f = (f as NSString).deletingLastPathComponent
            }
        }
        for (key, name) in [("csv", "manifest.csv"), ("options", "augment.json"), ("manifest", "manifest.jsonl")] {
            let temp = final + "/." + name + ".tmp"
            unlink(temp)
            try store.materialize(outputs[key]!, at: temp)
            guard rename(temp, final + "/" + name) == 0 else { throw DataError("\(final)/\(name): cannot replace it (errno \(errno))") }
            // A rename onto a hard link of the same file does nothing and leaves the temporary name.
            unlink(temp)
        }
    }

    /// The `file` and `id` of every line of a dataset manifest, the other members skipped (nil: a
    /// manifest that does not read).
    static func images(in manifest: [UInt8]) -> [(file: String, id: String)]? {
        (try? JSONLines.readLines(DatasetRecord.Image.self, manifest))?.map { ($0.file, $0.id) }
    }
}
