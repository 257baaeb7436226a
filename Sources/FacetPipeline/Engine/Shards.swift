import FacetCore
import FacetData
import FacetImage
import Foundation

/// The records stages store their records in shards: the records whose group id starts with the
/// same two hex digits, one JSON Lines object each, listed by an index object (a line per
/// shard: prefix, tab, hash). A group is never split across shards, so a stage that works per
/// record or per group (tag, label, stable split, augment) redoes only the shards whose input
/// changed, and ten new photos cost about ten shards of work, not the whole dump.
public struct ShardRef: Hashable, Sendable {
    public var prefix: String
    public var hash: String
}

public enum Shards {
    public static let prefixLength = 2

    /// Items by the shard of their group id, shards in prefix order, items in their given order within each.
    public static func partition<T>(_ items: [T], group: (T) -> String) -> [(prefix: String, items: [T])] {
        var by: [String: [T]] = [:]
        for item in items { by[String(group(item).prefix(prefixLength)), default: []].append(item) }
        return by.keys.sorted().map { ($0, by[$0]!) }
    }

    public static func encodeIndex(_ refs: [ShardRef]) -> [UInt8] {
        Array(refs.map { $0.prefix + "\t" + $0.hash + "\n" }.joined().utf8)
    }

    public static func decodeIndex(_ bytes: [UInt8], name: String) throws -> [ShardRef] {
        try String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { line in
            let parts = line.split(separator: "\t")
            guard parts.count == 2 else { throw DataError("\(name): not a shard index (line \"\(line)\")") }
            return ShardRef(prefix: String(parts[0]), hash: String(parts[1]))
        }
    }

    /// What changed from the shard objects `before` to those `after`: the objects that went, and
    /// the positions in `after` of those that came (a shard in both is the same object, unchanged).
    public static func changes(from before: [String], to after: [String]) -> (gone: [String], came: [Int]) {
        let kept = Set(before).intersection(after)
        return (before.filter { !kept.contains($0) }, after.indices.filter { !kept.contains(after[$0]) })
    }

    /// The shards of several indexes side by side, by prefix (nil where an index lacks one).
    public static func aligned(_ indexes: [[ShardRef]]) -> [(prefix: String, hashes: [String?])] {
        let maps = indexes.map { Dictionary($0.map { ($0.prefix, $0.hash) }) { a, _ in a } }
        return Set(indexes.flatMap { $0.map(\.prefix) }).sorted().map { p in (p, maps.map { $0[p] }) }
    }
}

/// What a stage made of one shard, remembered between runs by a key of everything it depends on.
protocol ShardResult: Codable, JSONReadable {
    /// The store objects the result names, all of which must still be there for it to be used.
    var objects: [String] { get }
}

/// A records stage's per-shard results from its last run, `WORKSPACE/cache/shards/STAGE.jsonl`
/// (a line per shard: key, tab, result as JSON). Written whole, through a rename, after the stage ran; a
/// result is used only when every object it names is in the store.
struct ShardMemo<R: ShardResult> {
    let path: String
    /// The results of the last run by key, each with its line as it was read.
    private var known: [String: (result: R, line: ArraySlice<UInt8>)] = [:]
    /// The file as it was read, and this run's memo, a line per shard.
    private var read: [UInt8]?, made: [UInt8] = []

    init(workspace: String, stage: StageKind, useCache: Bool) {
        path = workspace + "/cache/shards/" + stage.rawValue + ".jsonl"
        guard useCache, let data = FileSystem.read(path) else { return }
        read = data
        // A line is a key, a tab and the result's JSON; one that does not read (cut short) is skipped.
        for line in data.split(separator: 0x0A) {
            guard let tab = line.firstIndex(of: 0x09) else { continue }
            let json = line[(tab + 1)...]
            guard let r = json.withUnsafeBufferPointer({ try? JSONReader.read(R.self, $0) }) else { continue }
            known[String(decoding: line[..<tab], as: UTF8.self)] = (r, line)
        }
    }

    /// The result remembered for `key`, when every object it names is still in the store.
    func lookup(_ key: String, store: Store) -> R? {
        known[key].flatMap { k in k.result.objects.allSatisfy(store.has) ? k.result : nil }
    }

    /// Notes the result of a shard for this run's memo; `computed`: made now rather than found.
    mutating func record(_ key: String, _ r: R, computed: Bool) throws {
        if !computed, let k = known[key] {
            made += k.line
        } else {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            made += Array((key + "\t").utf8) + (try e.encode(r))
        }
        made.append(0x0A)
    }

    /// Keeps this run's results (only those: a memo holds one run's shards).
    func save() throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if read != made { try CacheFile.write(made, to: path) }
    }
}

extension Pipeline {
    /// "; 3 of 212 shards redone", when some were found.
    static func shardNote(_ redone: Int, of total: Int) -> String {
        redone == total ? "" : "; \(redone) of \(total) shards redone"
    }

    /// The key of one shard of a stage: the stage's key with its record inputs left out, the
    /// shard's prefix, and the hashes of the shard in each record input (plus `extra`, what
    /// else of the stage's inputs the shard reads).
    static func shardKey(base: String, prefix: String, hashes: [String?], extra: String = "") -> String {
        Store.hash(Array("shard\n\(base)\n\(prefix)\n\(hashes.map { $0 ?? "-" }.joined(separator: "\n"))\n\(extra)".utf8))
    }

    /// Runs a records stage shard by shard: the results its memo holds for `keys` are used,
    /// and `work` computes the others, given their positions in `keys` (all at once, so they
    /// can use every core), in that order. Returns a result per key and how many were computed.
    func sharded<R: ShardResult>(_ stage: StageKind, keys: [String], force: Bool,
                                 work: ([Int]) throws -> [R]) throws -> (results: [R], redone: Int) {
        var memo = ShardMemo<R>(workspace: manifest.workspace, stage: stage, useCache: !force)
        var results = keys.map { memo.lookup($0, store: store) }
        let missing = results.indices.filter { results[$0] == nil }
        if !missing.isEmpty {
            let made = try work(missing)
            precondition(made.count == missing.count, "a shard's work returned \(made.count) results for \(missing.count) shards")
            for (i, r) in zip(missing, made) { results[i] = r }
        }
        let missed = Set(missing)
        for (i, key) in keys.enumerated() { try memo.record(key, results[i]!, computed: missed.contains(i)) }
        try memo.save()
        return (results.map { $0! }, missing.count)
    }
}

extension Shards {
    /// The lines of `chunks` (JSON Lines, a shard's each) in order of their top-level string
    /// member `key` (ties in chunk, then line order), and where each came from. The member is
    /// found as the last `"key":"` of its line: keys are sorted, and the record types have no
    /// later member that could hold it unescaped.
    static func sortedLines(_ chunks: [[UInt8]], by key: String) throws -> (bytes: [UInt8], order: [(chunk: Int, line: Int)]) {
        let marker = Array("\"\(key)\":\"".utf8)
        typealias Line = (value: String, chunk: Int, line: Int, range: Range<Int>)
        // Each chunk's lines found on all cores, then sorted together.
        let found = concurrentMap(chunks.count) { c in
            chunks[c].withUnsafeBufferPointer { b -> Result<[Line], DataError> in
                var lines: [Line] = []
                for range in ByteScan.lineRanges(b) {
                    guard let value = lastString(UnsafeBufferPointer(rebasing: b[range]), marker: marker) else {
                        return .failure(DataError("a stored shard line has no \(key) member"))
                    }
                    lines.append((value, c, lines.count, range))
                }
                return .success(lines)
            }
        }
        var lines = try found.flatMap { try $0.get() }
        lines.sort { ($0.value, $0.chunk, $0.line) < ($1.value, $1.chunk, $1.line) }
        var out: [UInt8] = []
        out.reserveCapacity(chunks.reduce(0) { $0 + $1.count })
        for l in lines { out += chunks[l.chunk][l.range]; out.append(0x0A) }
        return (out, lines.map { ($0.chunk, $0.line) })
    }

    /// The string after the last `marker` (`"key":"`, ending in the opening quote) of a JSON line:
    /// the top-level member of that name when, keys being sorted, no later member can hold it
    /// unescaped (the shard records' `source`, the dataset's `file`, the augment index's `key`).
    static func lastString(_ line: UnsafeBufferPointer<UInt8>, marker: [UInt8]) -> String? {
        guard let (range, plain) = lastStringRange(line, marker: marker) else { return nil }
        if plain { return String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self) }
        return (try? JSONReader.read(JSONString.self, UnsafeBufferPointer(rebasing: line[(range.lowerBound - 1)...range.upperBound])))?.value
    }

    /// Where the string after the last `marker` lies in `line` (between its quotes), and whether
    /// it is plain (no escapes: those bytes are the string); nil when there is none.
    static func lastStringRange(_ line: UnsafeBufferPointer<UInt8>, marker: [UInt8]) -> (Range<Int>, plain: Bool)? {
        guard let base = line.baseAddress, marker.count > 1 else { return nil }
        // The marker's second byte (its name's first) tested before the whole (every `"` would pass the first).
        var i = line.count - marker.count
        let second = marker[1]
        marker.withUnsafeBufferPointer { m in
            while i >= 0, base[i + 1] != second || memcmp(base + i, m.baseAddress!, m.count) != 0 { i -= 1 }
        }
        guard i >= 0 else { return nil }
        let open = i + marker.count - 1
        var j = open + 1, plain = true
        while j < line.count, line[j] != UInt8(ascii: "\"") {
            if line[j] == UInt8(ascii: "\\") { plain = false; j += 1 }
            j += 1
        }
        guard j < line.count else { return nil }
        return ((open + 1)..<j, plain)
    }
}

/// A JSON string read alone.
struct JSONString: JSONReadable {
    var value: String
    init(_ r: inout JSONReader) throws { value = try r.string() }
}

extension JSONReader {
    /// `{"key": Int, …}`
    mutating func counts() throws -> [String: Int] {
        var out: [String: Int] = [:]
        try object { r, key in out[key] = try r.int() }
        return out
    }
}
