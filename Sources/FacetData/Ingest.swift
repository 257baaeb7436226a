import FacetCore
import FacetImage
import Foundation
import Synchronization

/// Options of `facet ingest` (the pipeline's `ingest` stage).
public struct IngestOptions: Sendable {
    /// Images over this many pixels are quarantined before decoding.
    public var maxPixels = 100_000_000
    /// Files over this many bytes are quarantined before reading.
    public var maxBytes = 1 << 30
    /// Near duplicates: perceptual hashes at most this many bits apart (nil: off).
    public var nearMaxDistance: Int? = NearDuplicate.maxDistance
    /// …and 16×16 thumbnails within this mean absolute difference, in levels.
    public var nearMaxThumbDifference = NearDuplicate.maxThumbDifference
    /// Bursts: photos whose EXIF times are at most this many seconds apart, same camera (nil: off).
    public var burstSeconds: Int? = nil
    /// Look for the face of every photo (nil: do not).
    public var faces: FaceOptions? = nil

    public init() {}
}

/// The one definition of near duplicates, for ingest's grouping and the split's leakage check:
/// perceptual hashes at most `maxDistance` bits apart and 16×16 thumbnails within
/// `maxThumbDifference` levels on average. On synth dumps re-encoded and resized copies differ by
/// under 0.5 levels, different photos by over 3.9.
public enum NearDuplicate {
    public static let maxDistance = 6
    public static let maxThumbDifference = 2.0
}

/// What an ingest found and did.
public struct IngestSummary: Sendable, Codable {
    public var found = 0
    public var accepted = 0
    public var quarantined = 0
    public var duplicates = 0
    /// Groups of more than one accepted record (near duplicates, bursts).
    public var groups = 0
    /// Files decoded now; files whose analysis came from the cache (the rest could not be read).
    public var decoded = 0
    public var reused = 0
    public var quarantineReasons: [String: Int] = [:]

    public init() {}

    /// "accepted + quarantined + duplicates = found" holds.
    public var balanced: Bool { accepted + quarantined + duplicates == found }
}

/// The files a workspace holds after ingest.
public enum Workspace {
    public static func manifest(_ w: String) -> String { w + "/manifest.jsonl" }
    public static func quarantine(_ w: String) -> String { w + "/quarantine.jsonl" }
    public static func duplicates(_ w: String) -> String { w + "/duplicates.jsonl" }
    public static func summary(_ w: String) -> String { w + "/ingest-summary.json" }
    public static func info(_ w: String) -> String { w + "/workspace.json" }

    /// The dump a workspace was ingested from.
    public static func dump(_ w: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: info(w)) else {
            throw DataError("\(info(w)): missing; run facet ingest first")
        }
        do { return try JSONDecoder().decode(WorkspaceInfo.self, from: data).dump } catch {
            throw DataError("\(info(w)): not a workspace file: \(JSONLines.describe(error))")
        }
    }
}

/// What a workspace remembers of its making.
public struct WorkspaceInfo: Codable, Sendable {
    /// Absolute path of the photo dump.
    public var dump: String
}

public enum Ingest {
    /// Ingests the dump at `dump` into `workspace`: every file is accepted (a record), quarantined
    /// (with its reason) or an exact duplicate of an accepted one. The dump is only read.
    public static func run(dump: String, workspace: String, options: IngestOptions = IngestOptions(),
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> IngestSummary {
        let result = try scan(dump: dump, workspace: workspace, options: options, progress: progress)
        try JSONLines.write(result.records, to: Workspace.manifest(workspace))
        try JSONLines.write(result.quarantine, to: Workspace.quarantine(workspace))
        try JSONLines.write(result.duplicates, to: Workspace.duplicates(workspace))
        try AtomicFile.write(Array((try JSONLines.encode(result.summary) + "\n").utf8), to: Workspace.summary(workspace))
        try writeInfo(dump: dump, workspace: workspace)
        return result.summary
    }

    /// Records that `workspace` was made from `dump`.
    public static func writeInfo(dump: String, workspace: String) throws {
        let info = WorkspaceInfo(dump: URL(fileURLWithPath: dump).standardizedFileURL.path)
        try AtomicFile.write(Array((try JSONLines.encode(info) + "\n").utf8), to: Workspace.info(workspace))
    }

    /// What an ingest produces, before it is written anywhere.
    public struct Result: Sendable {
        /// An accepted photo: what its record is made from.
        public struct Photo: Sendable {
            public var source: String
            public var analysis: PhotoAnalysis
            /// The smallest id of its duplicate/burst group.
            public var group: String
            public var bytes: Int
        }
        /// The accepted photos, sorted by source.
        public var photos: [Photo]
        /// The median area of the accepted photos, which each record's `odd_size` is measured against.
        public var medianArea: Double
        public var quarantine: [QuarantineRecord]
        public var duplicates: [DuplicateRecord]
        public var summary: IngestSummary

        /// The record of an accepted photo (built on demand: the pipeline builds only the records of
        /// the shards it stores).
        public func record(_ p: Photo) -> Record {
            Grouping.record(p.source, p.analysis, group: p.group, bytes: p.bytes, medianArea: medianArea)
        }

        /// Every record, sorted by source.
        public var records: [Record] { photos.map(record) }

        /// 16×16 thumbnails of the accepted photos, by id (for the leakage check; made when asked).
        public var thumbs: [String: Data] {
            Dictionary(photos.map { ($0.analysis.sha256, $0.analysis.thumb) }) { a, _ in a }
        }
    }

    /// The face crops ingest made for the photos of `workspace`, by photo id (see `FaceStore`).
    public static func faces(workspace: String) -> [String: Data] { FaceStore.read(workspace) ?? [:] }

    /// Ingests the dump, keeping the per-file analysis cache of `workspace` up to date, and
    /// returns the records without writing them. `useCache: false` decodes every file again.
    /// `listing`: the dump's listing when the caller has just made it (the pipeline's fingerprint).
    public static func scan(dump: String, workspace: String, options: IngestOptions = IngestOptions(), useCache: Bool = true,
                            listing: DumpListing? = nil, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Result {
        let listing = try listing ?? list(dump: dump, workspace: workspace)
        Trace.mark("ingest: listing")
        let cache = useCache ? IngestCache(workspace: workspace) : IngestCache()
        Trace.mark("ingest: analysis cache read")
        let files = listing.files
        let decodedCount = Atomic<Int>(0), reusedCount = Atomic<Int>(0)
        let results = parallelMap(files.count, progress: progress) { i in
            let (outcome, how) = analyze(files[i], dump: dump, cache: cache, options: options)
            switch how {
            case .decoded: decodedCount.add(1, ordering: .relaxed)
            case .cached: reusedCount.add(1, ordering: .relaxed)
            case .unread: break
            }
            return outcome
        }
        Trace.mark("ingest: files analysed or looked up")
        try FileManager.default.createDirectory(atPath: workspace + "/cache", withIntermediateDirectories: true)
        // Crops are made only by a decode: those of this run's decodes join the face store, before
        // the analysis cache records the analyses (a run killed between the two decodes them again).
        try FaceStore.update(crops(results), keep: Set(results.compactMap(\.sha256)), fresh: cache.lines == 0, workspace: workspace)
        try IngestCache.update(zip(files, results).map {
            IngestCache.Entry(path: $0.path, size: $0.size, mtime: $0.mtime, outcome: $1)
        }, previous: cache, workspace: workspace)

        Trace.mark("ingest: face store and analysis cache updated")
        var quarantine = listing.problems
        var analysed: [(String, PhotoAnalysis)] = [], sizes: [Int] = []
        for (file, outcome) in zip(files, results) {
            switch outcome {
            case .photo(let p): analysed.append((file.path, p)); sizes.append(file.size)
            case .failed(_, let kind, let reason): quarantine.append(QuarantineRecord(source: file.path, reason: reason, kind: kind, bytes: file.size))
            }
        }
        var grouping = try Grouping(photos: analysed, dump: dump, options: options)
        Trace.mark("ingest: grouped")
        let (accepted, medianArea, groups) = grouping.accepted()
        let photos = accepted.map { Result.Photo(source: $0.source, analysis: $0.photo, group: $0.group, bytes: sizes[$0.given]) }
        quarantine.sort { $0.source < $1.source }

        var summary = IngestSummary()
        summary.found = files.count + listing.problems.count
        summary.accepted = photos.count
        summary.quarantined = quarantine.count
        summary.duplicates = grouping.duplicates.count
        summary.groups = groups
        summary.decoded = decodedCount.load(ordering: .relaxed)
        summary.reused = reusedCount.load(ordering: .relaxed)
        for q in quarantine { summary.quarantineReasons[q.kind, default: 0] += 1 }
        guard summary.balanced else {
            throw DataError("ingest: internal count mismatch: \(summary.accepted) + \(summary.quarantined) + \(summary.duplicates) ≠ \(summary.found)")
        }
        Trace.mark("ingest: summary")
        return Result(photos: photos, medianArea: medianArea, quarantine: quarantine, duplicates: grouping.duplicates, summary: summary)
    }

    /// The dump's content as ingest would see it, cheaply: per file, its path and the SHA-256 of
    /// its bytes, from the analysis cache when (path, size, mtime) match, else read and hashed;
    /// files that cannot be read and other problems appear by path and reason. Two dumps with
    /// equal fingerprints ingest to the same records.
    /// The dump's listing, for a workspace that may hold outputs for it: one that is the dump,
    /// lies inside it or contains it is refused here, where every ingest starts.
    static func list(dump: String, workspace: String) throws -> DumpListing {
        if let problem = SafePaths.overlapProblem(workspace: workspace, dump: dump) { throw DataError(problem) }
        return try DumpWalker.list(dump, exclude: [workspace])
    }

    public static func fingerprint(dump: String, workspace: String, maxBytes: Int) throws -> (lines: [String], listing: DumpListing) {
        let listing = try list(dump: dump, workspace: workspace)
        let index = IngestCache.readIndex(workspace)
        let lines = concurrentMap(listing.files.count) { i in
            let f = listing.files[i]
            if let known = index[f.path], known.size == f.size, known.mtime == f.mtime { return f.path + "\t" + known.sha256 }
            do throws(ImageError) {
                return f.path + "\t" + Analyzer.sha256(try ImageDecoder.readFile(dump + "/" + f.path, maxBytes: maxBytes))
            } catch {
                // What ingest will make of the file follows from the kind alone (empty, too large, unreadable).
                return f.path + "\t" + error.kind.rawValue + ":\(f.size)"
            }
        }
        return (lines + listing.problems.map { $0.source + "\tproblem:" + $0.reason }, listing)
    }

    /// The paths of the files added between two fingerprints of a dump, when the later holds every
    /// line of the earlier, in order, and each other line is a file's path and content hash, the
    /// hash found nowhere else in either; nil otherwise (a file gone, changed or unreadable, a copy added).
    public static func addedFiles(from before: [UInt8], to now: [UInt8]) -> [String]? {
        before.withUnsafeBufferPointer { old in
            now.withUnsafeBufferPointer { new -> [String]? in
                let oldLines = ByteScan.lineRanges(old), newLines = ByteScan.lineRanges(new)
                var j = 0
                var added: [(path: Range<Int>, hash: Range<Int>)] = []
                for r in newLines {
                    if j < oldLines.count, oldLines[j].count == r.count,
                       memcmp(old.baseAddress! + oldLines[j].lowerBound, new.baseAddress! + r.lowerBound, r.count) == 0 {
                        j += 1
                        continue
                    }
                    guard r.count > 65, new[r.upperBound - 65] == 0x09,
                          new[(r.upperBound - 64)..<r.upperBound].allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
                    added.append((r.lowerBound..<(r.upperBound - 65), (r.upperBound - 64)..<r.upperBound))
                }
                guard j == oldLines.count, !added.isEmpty else { return nil }
                // A hash already in the dump, or twice among those added: a copy, which a full ingest sets aside.
                let hashes = Set(added.map { String(decoding: UnsafeBufferPointer(rebasing: new[$0.hash]), as: UTF8.self) })
                guard hashes.count == added.count, !oldLines.contains(where: { r in
                    r.count > 65 && old[r.upperBound - 65] == 0x09
                        && hashes.contains(String(decoding: UnsafeBufferPointer(rebasing: old[(r.upperBound - 64)..<r.upperBound]), as: UTF8.self))
                }) else { return nil }
                return added.map { String(decoding: UnsafeBufferPointer(rebasing: new[$0.path]), as: UTF8.self) }
            }
        }
    }

    /// The face crops that decodes among `outcomes` made, by photo id.
    static func crops(_ outcomes: [AnalysisOutcome]) -> [(id: String, crop: Data)] {
        outcomes.compactMap { o in if case .photo(let p) = o, let face = p.face { (id: p.sha256, crop: face) } else { nil } }
    }

    enum How { case cached, decoded, unread }

    /// The analysis of one file, from the cache when its stat or its bytes are known; and how it was had.
    /// An analysis counts only when made under this run's face options (or both without).
    static func analyze(_ file: DumpListing.File, dump: String, cache: IngestCache, options: IngestOptions) -> (AnalysisOutcome, How) {
        let key = options.faces?.key
        if let cached = cache.lookup(file), cached.serves(faces: key) { return (cached, .cached) }
        let path = dump + "/" + file.path
        let bytes: [UInt8]
        do {
            bytes = try ImageDecoder.readFile(path, maxBytes: options.maxBytes)
        } catch {
            return (.failed(sha256: nil, kind: error.kind.rawValue, reason: error.reason), .unread)
        }
        let hash = Analyzer.sha256(bytes)
        if let known = cache.lookup(sha256: hash), known.serves(faces: key) { return (known, .cached) }
        return (Analyzer.analyze(bytes, sha256: hash, path: path, maxPixels: options.maxPixels, faces: options.faces), .decoded)
    }
}
