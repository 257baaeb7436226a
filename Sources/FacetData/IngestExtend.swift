import FacetCore
import FacetImage
import Foundation

extension Ingest {
    /// What files added to a dump since an ingest make: the added photos and the index after them.
    public struct Extension: Sendable {
        /// The added photos, sorted by source, each in its group (its own, or an earlier one it joined).
        public var photos: [Result.Photo]
        public var summary: IngestSummary
        /// `index` with the added photos, and the caches' sizes after them.
        public var index: IngestIndex
    }

    /// Ingests files added to a dump since the ingest that left `index` (the photos it accepted), analysing them alone (the
    /// analyses and face crops go to the caches as in `scan`). What a full ingest would make of them
    /// when each is a readable photo, no copy of another (by bytes — the caller checks the dump's
    /// other files — or by pixel size and perceptual hash), near duplicates join groups without
    /// renaming or merging earlier ones (`group`), and the median photo area is unchanged: then every
    /// earlier photo keeps its group and record.
    /// Nil otherwise, or when bursts are grouped or the caches changed since `index` (the caller
    /// ingests in full; the analyses made stay in the cache).
    /// `decoded`: set to the number of files decoded, also when nil is returned.
    public static func extend(_ index: IngestIndex, adding files: [DumpListing.File], dump: String, workspace: String,
                              options: IngestOptions, decoded: inout Int) throws -> Extension? {
        guard !files.isEmpty, options.burstSeconds == nil, index.cacheSizes == IngestIndex.cacheSizes(workspace),
              FaceStore.isValid(workspace) else { return nil }
        let outcomes = concurrentMap(files.count) { analyze(files[$0], dump: dump, cache: IngestCache(), options: options).0 }
        decoded = outcomes.filter { if case .photo = $0 { true } else { $0.sha256 != nil } }.count
        Trace.mark("ingest: added files analysed")
        // Crops first, then analyses, as `scan` records them.
        let crops = Self.crops(outcomes)
        if !crops.isEmpty { try FileSystem.append(FaceStore.encode(crops), to: FaceStore.path(workspace)) }
        let entries = zip(files, outcomes).map { IngestCache.Entry(path: $0.path, size: $0.size, mtime: $0.mtime, outcome: $1) }
        try FileSystem.append(IngestCache.encode(entries), to: IngestCache.path(workspace))
        try IngestCache.appendIndex(entries, all: entries, workspace: workspace)

        var photos: [Result.Photo] = []
        for (f, o) in zip(files, outcomes) {
            guard case .photo(let p) = o else { return nil }
            photos.append(Result.Photo(source: f.path, analysis: p, group: p.sha256, bytes: f.size))
        }
        guard Set(photos.map(\.analysis.sha256)).count == photos.count, let grouped = group(&photos, index, options) else { return nil }
        let areas = ((0..<index.count).map { Double(index.widths[$0] * index.heights[$0]) }
                     + photos.map { Double($0.analysis.width * $0.analysis.height) }).sorted()
        guard areas[areas.count / 2] == index.medianArea else { return nil }

        photos.sort { $0.source < $1.source }
        var summary = index.summary
        summary.found += files.count
        summary.accepted += photos.count
        summary.groups += grouped
        // Every file analysed before is now in the cache.
        summary.reused = index.summary.reused + index.summary.decoded
        summary.decoded = photos.count
        var next = index
        guard next.append(photos) else { return nil }
        next.summary = summary
        next.cacheSizes = IngestIndex.cacheSizes(workspace)
        return Extension(photos: photos, summary: summary, index: next)
    }

    /// Groups added photos as a full ingest would, when that leaves every earlier photo's group as
    /// it was: a photo near duplicates of one earlier group joins it when the group keeps its id
    /// (the smallest in it), added photos near one another make a group. Returns the number of
    /// groups of more than one photo that this makes; nil when an added photo has an earlier or
    /// another added photo's pixel size and hash (the pixel-duplicate check's first sieve, which
    /// could set one aside), would join two earlier groups, or would rename one.
    static func group(_ photos: inout [Result.Photo], _ index: IngestIndex, _ options: IngestOptions) -> Int? {
        func near(_ a: PhotoAnalysis, _ phash: UInt64) -> Bool {
            options.nearMaxDistance.map { PerceptualHash.distance(a.phash, phash) <= $0 } ?? false
        }
        func close(_ a: PhotoAnalysis, _ thumb: Data) -> Bool {
            Grouping.thumbDifference(a.thumb, thumb) <= options.nearMaxThumbDifference
        }
        // Added photos linked by near pairs (union–find), and the earlier groups each is near.
        var parent = Array(photos.indices)
        func find(_ i: Int) -> Int { var i = i; while parent[i] != i { i = parent[i] }; return i }
        var touched = [Set<Int>](repeating: [], count: photos.count)
        for (k, p) in photos.enumerated() {
            let a = p.analysis
            var candidates: [Int] = []
            for i in 0..<index.count {
                if index.widths[i] == a.width && index.heights[i] == a.height && index.phashes[i] == a.phash { return nil }
                if near(a, index.phashes[i]) { candidates.append(i) }
            }
            for i in candidates {
                guard let thumb = index.thumb(i) else { return nil }   // a thumbnail that does not read: not vouched for
                if close(a, thumb) { touched[k].insert(index.groups[i]) }
            }
            for (j, q) in photos[..<k].enumerated() {
                let b = q.analysis
                if a.width == b.width && a.height == b.height && a.phash == b.phash { return nil }
                if near(a, b.phash) && close(a, b.thumb) { parent[find(k)] = find(j) }
            }
        }
        var made = 0
        for root in Set(photos.indices.map(find)) {
            let members = photos.indices.filter { find($0) == root }
            let groups = members.reduce(into: Set<Int>()) { $0.formUnion(touched[$1]) }
            guard groups.count <= 1 else { return nil }
            if let g = groups.first {
                let id = String(decoding: index.id(g), as: UTF8.self)
                guard members.allSatisfy({ photos[$0].analysis.sha256 > id }) else { return nil }
                for m in members { photos[m].group = id }
                // An earlier photo alone until now: a group of more than one from here.
                if !(0..<index.count).contains(where: { $0 != g && index.groups[$0] == g }) { made += 1 }
            } else if members.count > 1 {
                let id = members.map { photos[$0].analysis.sha256 }.min()!
                for m in members { photos[m].group = id }
                made += 1
            }
        }
        return made
    }

    /// The record of an accepted photo, its quality measured against `medianArea`.
    public static func record(_ p: Result.Photo, medianArea: Double) -> Record {
        Grouping.record(p.source, p.analysis, group: p.group, bytes: p.bytes, medianArea: medianArea)
    }
}
