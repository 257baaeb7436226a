import FacetImage
import Foundation

extension Ingest {
    /// What files added to a dump since an ingest make: the added photos and the state after them.
    public struct Extension: Sendable {
        /// The added photos, sorted by source, each a group of its own.
        public var photos: [Result.Photo]
        public var summary: IngestSummary
        /// `state` with the added photos, and the caches' sizes after them.
        public var state: IngestState
    }

    /// Ingests files added to a dump since the ingest that left `state`, analysing them alone (the
    /// analyses and face crops go to the caches as in `scan`). What a full ingest would make of them
    /// when each is a readable photo, no copy of another (by bytes — the caller checks the dump's
    /// other files — or by pixel size, perceptual hash and thumbnail), no near duplicate of any photo,
    /// and the median photo area is unchanged: then every earlier photo keeps its group and record.
    /// Nil otherwise, or when bursts are grouped or the caches changed since `state` (the caller
    /// ingests in full; the analyses made stay in the cache).
    public static func extend(_ state: IngestState, adding files: [DumpListing.File], dump: String, workspace: String,
                              options: IngestOptions) throws -> Extension? {
        guard !files.isEmpty, options.burstSeconds == nil, state.cacheSizes == IngestState.cacheSizes(workspace),
              FaceStore.isValid(workspace) else { return nil }
        let outcomes = concurrentMap(files.count) { analyze(files[$0], dump: dump, cache: IngestCache(), options: options).0 }
        Trace.mark("ingest: added files analysed")
        // Crops first, then analyses, as `scan` records them.
        let crops = outcomes.compactMap { o -> (id: String, crop: Data)? in
            if case .photo(let p) = o, let face = p.face { (id: p.sha256, crop: face) } else { nil }
        }
        if !crops.isEmpty { try FileSystem.append(FaceStore.encode(crops), to: FaceStore.path(workspace)) }
        let entries = zip(files, outcomes).map { IngestCache.Entry(path: $0.path, size: $0.size, mtime: $0.mtime, outcome: $1) }
        try FileSystem.append(IngestCache.encode(entries), to: IngestCache.path(workspace))
        try IngestCache.appendIndex(entries, all: entries, workspace: workspace)

        var photos: [Result.Photo] = []
        for (f, o) in zip(files, outcomes) {
            guard case .photo(let p) = o else { return nil }
            photos.append(Result.Photo(source: f.path, analysis: p, group: p.sha256, bytes: f.size))
        }
        guard Set(photos.map(\.analysis.sha256)).count == photos.count else { return nil }
        // Each must stay a photo of its own: no other with its pixel size and hash (the pixel-duplicate
        // check's first sieve), and no near-duplicate pair (hashes close, then thumbnails).
        func near(_ a: PhotoAnalysis, _ phash: UInt64) -> Bool {
            options.nearMaxDistance.map { PerceptualHash.distance(a.phash, phash) <= $0 } ?? false
        }
        func close(_ a: PhotoAnalysis, _ thumb: Data?) -> Bool {
            guard let thumb else { return true }   // a thumbnail that does not read: not vouched for
            return Grouping.thumbDifference(a.thumb, thumb) <= options.nearMaxThumbDifference
        }
        for (k, p) in photos.enumerated() {
            let a = p.analysis
            var candidates: [Int] = []
            for i in 0..<state.count {
                if state.widths[i] == a.width && state.heights[i] == a.height && state.phashes[i] == a.phash { return nil }
                if near(a, state.phashes[i]) { candidates.append(i) }
            }
            let thumbs = state.thumbs(candidates)
            if candidates.contains(where: { close(a, thumbs[$0]) }) { return nil }
            for q in photos[..<k].map(\.analysis) {
                if (q.width == a.width && q.height == a.height && q.phash == a.phash) || (near(a, q.phash) && close(a, q.thumb)) { return nil }
            }
        }
        let areas = ((0..<state.count).map { Double(state.widths[$0] * state.heights[$0]) }
                     + photos.map { Double($0.analysis.width * $0.analysis.height) }).sorted()
        guard areas[areas.count / 2] == state.medianArea else { return nil }

        photos.sort { $0.source < $1.source }
        var summary = state.summary
        summary.found += files.count
        summary.accepted += photos.count
        // Every file analysed before is now in the cache.
        summary.reused = state.summary.reused + state.summary.decoded
        summary.decoded = photos.count
        var next = state
        guard next.append(photos) else { return nil }
        next.summary = summary
        next.cacheSizes = IngestState.cacheSizes(workspace)
        return Extension(photos: photos, summary: summary, state: next)
    }

    /// The record of an accepted photo, its quality measured against `medianArea`.
    public static func record(_ p: Result.Photo, medianArea: Double) -> Record {
        Grouping.record(p.source, p.analysis, group: p.group, bytes: p.bytes, medianArea: medianArea)
    }
}
