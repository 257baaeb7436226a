import FacetImage
import Foundation

/// Exact duplicates (same bytes, or same pixels after orientation) are set aside; near
/// duplicates (close perceptual hash and thumbnail) and bursts share a group.
struct Grouping {
    /// Every photo given, and those kept, as indices into it (an analysis is copied only for the result).
    private let photos: [(String, PhotoAnalysis)]
    private var kept: [Int] = []
    private(set) var duplicates: [DuplicateRecord] = []
    private var parent: [Int] = []

    /// Of identical files the one kept has the shortest path, then the first in sorted order:
    /// "IMG_0067.jpg" rather than "IMG_0067 (1).jpg". Kept photos stay in the order given.
    init(photos: [(String, PhotoAnalysis)], dump: String, options: IngestOptions) throws {
        self.photos = photos
        // The preferred file of each content; paths measured only where contents repeat (a
        // String's count walks its characters).
        var best: [String: Int] = [:]
        best.reserveCapacity(photos.count)
        for i in photos.indices {
            let id = photos[i].1.sha256
            guard let b = best[id] else { best[id] = i; continue }
            if Self.preferred(photos[i].0, over: photos[b].0) { best[id] = i }
        }
        for i in photos.indices {
            let id = photos[i].1.sha256, b = best[id]!
            if b == i { kept.append(i) } else {
                duplicates.append(DuplicateRecord(source: photos[i].0, id: id, duplicateOf: id, keptSource: photos[b].0, match: "bytes"))
            }
        }
        try removePixelDuplicates(dump: dump, maxPixels: options.maxPixels)
        parent = Array(kept.indices)
        if let distance = options.nearMaxDistance { groupNear(distance: distance, thumbDifference: options.nearMaxThumbDifference) }
        if let seconds = options.burstSeconds { groupBursts(seconds: seconds) }
        duplicates.sort { $0.source < $1.source }
    }

    /// Whether path `a` is kept rather than `b` of two identical files: the shorter, then the first in sorted order.
    static func preferred(_ a: String, over b: String) -> Bool { (a.count, a) < (b.count, b) }

    /// The analysis and source of kept photo `k`.
    private func photo(_ k: Int) -> PhotoAnalysis { photos[kept[k]].1 }
    private func source(_ k: Int) -> String { photos[kept[k]].0 }

    /// Files with different bytes whose cheap signatures agree are decoded in full and
    /// compared pixel by pixel (a hash of the upright pixels).
    private mutating func removePixelDuplicates(dump: String, maxPixels: Int) throws {
        // Bucketed by size and hash first (the thumbnails, 768 bytes each, are hashed only where those agree).
        struct Signature: Hashable { var width, height: Int, phash: UInt64 }
        var first: [Signature: [Int]] = [:]
        first.reserveCapacity(kept.count)
        for (k, i) in kept.enumerated() {
            let p = photos[i].1
            first[Signature(width: p.width, height: p.height, phash: p.phash), default: []].append(k)
        }
        var buckets: [[Int]] = []
        for members in first.values where members.count > 1 {
            // Each in order of preference, so that the preferred file of equal pixels is kept.
            buckets += Dictionary(grouping: members) { photo($0).thumb }.values.map { $0.sorted { Self.preferred(source($0), over: source($1)) } }
        }
        var drop = Set<Int>()
        for members in buckets where members.count > 1 {
            var seen: [String: Int] = [:]
            for i in members {
                let path = dump + "/" + source(i)
                guard let decoded = try? ImageDecoder.decode(file: path, options: DecodeOptions(maxPixels: maxPixels)) else { continue }
                let pixelHash = Analyzer.sha256(decoded.image.pixels)
                if let first = seen[pixelHash] {
                    duplicates.append(DuplicateRecord(source: source(i), id: photo(i).sha256,
                                                      duplicateOf: photo(first).sha256, keptSource: source(first), match: "pixels"))
                    drop.insert(i)
                } else {
                    seen[pixelHash] = i
                }
            }
        }
        kept = kept.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
    }

    private mutating func find(_ i: Int) -> Int {
        var i = i
        while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
        return i
    }

    private mutating func union(_ a: Int, _ b: Int) {
        let ra = find(a), rb = find(b)
        if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }

    private mutating func groupNear(distance: Int, thumbDifference: Double) {
        for (i, j) in PerceptualHash.nearPairs(kept.map { photos[$0].1.phash }, maxDistance: distance)
        where Grouping.thumbDifference(photos[kept[i]].1.thumb, photos[kept[j]].1.thumb) <= thumbDifference {
            union(i, j)
        }
    }

    static func thumbDifference(_ a: Data, _ b: Data) -> Double {
        guard a.count == b.count, !a.isEmpty else { return .infinity }
        let total = a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                // 16 bytes at a time: |x − y| as max − min, summed in 16-bit lanes, which are
                // emptied before 257 blocks could overflow one; the tail byte by byte.
                var t = 0, i = 0
                while i + 16 <= pa.count {
                    var lanes = SIMD16<UInt16>()
                    var blocks = 0
                    while blocks < 256 && i + 16 <= pa.count {
                        let x = pa.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                        let y = pb.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                        lanes &+= SIMD16<UInt16>(truncatingIfNeeded: pointwiseMax(x, y) &- pointwiseMin(x, y))
                        i += 16; blocks += 1
                    }
                    t += Int(SIMD16<UInt32>(truncatingIfNeeded: lanes).wrappedSum())
                }
                for j in i..<pa.count { t += abs(Int(pa[j]) - Int(pb[j])) }
                return t
            }
        }
        return Double(total) / Double(a.count)
    }

    private mutating func groupBursts(seconds: Int) {
        let timed = kept.indices.compactMap { i in Grouping.seconds(photo(i).taken).map { (i, $0, photo(i).camera ?? "") } }
            .sorted { ($0.2, $0.1, $0.0) < ($1.2, $1.1, $1.0) }
        for (a, b) in zip(timed, timed.dropFirst()) where a.2 == b.2 && b.1 - a.1 <= seconds { union(a.0, b.0) }
    }

    /// Seconds since 0000-01-01 of an EXIF "YYYY:MM:DD HH:MM:SS" (a monotone key is all bursts need).
    static func seconds(_ taken: String?) -> Int? {
        guard let taken else { return nil }
        let parts = taken.split(whereSeparator: { $0 == ":" || $0 == " " }).compactMap { Int($0) }
        guard parts.count == 6 else { return nil }
        return ((((parts[0] * 12 + parts[1]) * 31 + parts[2]) * 24 + parts[3]) * 60 + parts[4]) * 60 + parts[5]
    }

    /// The accepted photos sorted by source, each with its group (the smallest id in it) and its
    /// position among the photos given; the median photo area (which a record's `odd_size` is
    /// measured against); and the number of groups of more than one photo.
    mutating func accepted() -> (photos: [(source: String, photo: PhotoAnalysis, group: String, given: Int)], medianArea: Double, groups: Int) {
        var groupID: [Int: String] = [:], members: [Int: Int] = [:]
        for k in kept.indices {
            let root = find(k), id = photos[kept[k]].1.sha256
            groupID[root] = min(groupID[root] ?? id, id)
            members[root, default: 0] += 1
        }
        let areas = kept.map { Double(photos[$0].1.width * photos[$0].1.height) }.sorted()
        let medianArea = areas.isEmpty ? 1 : areas[areas.count / 2]
        // Indices sorted, not the tuples (each holds a whole analysis).
        let roots = kept.indices.map { find($0) }, sources = kept.map { photos[$0].0 }
        // Kept photos are in the order given, most often that of source already (a dump's listing).
        let inOrder = zip(sources, sources.dropFirst()).allSatisfy { $0 < $1 }
        let order = inOrder ? Array(kept.indices) : kept.indices.sorted { sources[$0] < sources[$1] }
        return (order.map { k in (source: sources[k], photo: photos[kept[k]].1, group: groupID[roots[k]]!, given: kept[k]) }, medianArea,
                members.values.filter { $0 > 1 }.count)
    }

    /// The record of one accepted photo.
    static func record(_ source: String, _ p: PhotoAnalysis, group: String, bytes: Int, medianArea: Double) -> Record {
        let quality = Quality(p.stats, width: p.width, height: p.height, medianArea: medianArea)
        var record = Record(id: p.sha256, source: source, format: p.format, width: p.width, height: p.height,
                      orientation: p.orientation, bytes: bytes, taken: p.taken, camera: p.camera, quality: quality,
                      issues: quality.issues + p.faceIssues, features: p.features, phash: PerceptualHash.hex(p.phash),
                      conditions: nil, label: nil, group: group, split: nil,
                      warnings: p.warnings.isEmpty ? nil : p.warnings)
        record.face = p.finding
        return record
    }
}
