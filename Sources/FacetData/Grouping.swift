import FacetImage
import Foundation

/// Exact duplicates (same bytes, or same pixels after orientation) are set aside; near
/// duplicates (close perceptual hash and thumbnail) and bursts share a group.
struct Grouping {
    private(set) var kept: [(source: String, photo: PhotoAnalysis)] = []
    private(set) var duplicates: [DuplicateRecord] = []
    private var parent: [Int] = []

    /// Of identical files the one kept has the shortest path, then the first in sorted order:
    /// "IMG_0067.jpg" rather than "IMG_0067 (1).jpg".
    init(photos: [(String, PhotoAnalysis)], dump: String, options: IngestOptions) throws {
        var keptByHash: [String: Int] = [:]
        // Indices sorted, each path's length counted once (a String's count walks its characters).
        let lengths = photos.map(\.0.count)
        let ordered = photos.indices.sorted { (lengths[$0], photos[$0].0) < (lengths[$1], photos[$1].0) }
        for (source, photo) in ordered.lazy.map({ photos[$0] }) {
            if let k = keptByHash[photo.sha256] {
                duplicates.append(DuplicateRecord(source: source, id: photo.sha256, duplicateOf: photo.sha256,
                                                  keptSource: kept[k].source, match: "bytes"))
            } else {
                keptByHash[photo.sha256] = kept.count
                kept.append((source, photo))
            }
        }
        try removePixelDuplicates(dump: dump, maxPixels: options.maxPixels)
        parent = Array(kept.indices)
        if let distance = options.nearMaxDistance { groupNear(distance: distance, thumbDifference: options.nearMaxThumbDifference) }
        if let seconds = options.burstSeconds { groupBursts(seconds: seconds) }
        duplicates.sort { $0.source < $1.source }
    }

    /// Files with different bytes whose cheap signatures agree are decoded in full and
    /// compared pixel by pixel (a hash of the upright pixels).
    private mutating func removePixelDuplicates(dump: String, maxPixels: Int) throws {
        // Bucketed by size and hash first (the thumbnails, 768 bytes each, are hashed only where those agree).
        struct Signature: Hashable { var width, height: Int, phash: UInt64 }
        var first: [Signature: [Int]] = [:]
        first.reserveCapacity(kept.count)
        for (i, k) in kept.enumerated() {
            first[Signature(width: k.photo.width, height: k.photo.height, phash: k.photo.phash), default: []].append(i)
        }
        var buckets: [[Int]] = []
        for members in first.values where members.count > 1 {
            buckets += Dictionary(grouping: members) { kept[$0].photo.thumb }.values   // each in order, as `members`
        }
        var drop = Set<Int>()
        for members in buckets where members.count > 1 {
            var seen: [String: Int] = [:]
            for i in members {
                let path = dump + "/" + kept[i].source
                guard let decoded = try? ImageDecoder.decode(file: path, options: DecodeOptions(maxPixels: maxPixels)) else { continue }
                let pixelHash = Analyzer.sha256(decoded.image.pixels)
                if let first = seen[pixelHash] {
                    duplicates.append(DuplicateRecord(source: kept[i].source, id: kept[i].photo.sha256,
                                                      duplicateOf: kept[first].photo.sha256, keptSource: kept[first].source, match: "pixels"))
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
        for (i, j) in PerceptualHash.nearPairs(kept.map(\.photo.phash), maxDistance: distance)
        where Grouping.thumbDifference(kept[i].photo.thumb, kept[j].photo.thumb) <= thumbDifference {
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
        let timed = kept.indices.compactMap { i in Grouping.seconds(kept[i].photo.taken).map { (i, $0, kept[i].photo.camera ?? "") } }
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

    /// The accepted photos sorted by source, each with its group (the smallest id in it), and
    /// the median photo area (which a record's `odd_size` is measured against).
    mutating func accepted() -> (photos: [(source: String, photo: PhotoAnalysis, group: String)], medianArea: Double) {
        var groupID: [Int: String] = [:]
        for i in kept.indices {
            let root = find(i)
            groupID[root] = min(groupID[root] ?? kept[i].photo.sha256, kept[i].photo.sha256)
        }
        let areas = kept.map { Double($0.photo.width * $0.photo.height) }.sorted()
        let medianArea = areas.isEmpty ? 1 : areas[areas.count / 2]
        // Indices sorted, not the tuples (each holds a whole analysis).
        let roots = kept.indices.map { find($0) }
        let order = kept.indices.sorted { kept[$0].source < kept[$1].source }
        return (order.map { i in (source: kept[i].source, photo: kept[i].photo, group: groupID[roots[i]]!) }, medianArea)
    }

    /// The record of one accepted photo.
    static func record(_ source: String, _ p: PhotoAnalysis, group: String, bytes: Int, medianArea: Double) -> Record {
        let quality = Quality(p.stats, width: p.width, height: p.height, medianArea: medianArea)
        return Record(id: p.sha256, source: source, format: p.format, width: p.width, height: p.height,
                      orientation: p.orientation, bytes: bytes, taken: p.taken, camera: p.camera, quality: quality,
                      issues: quality.issues, features: p.features, phash: PerceptualHash.hex(p.phash),
                      conditions: nil, label: nil, group: group, split: nil,
                      warnings: p.warnings.isEmpty ? nil : p.warnings)
    }
}
