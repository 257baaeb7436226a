import Crypto
import FacetImage
import Foundation

/// What ingest learns from one file's bytes, cached per file so that a file is decoded once.
public struct PhotoAnalysis: Codable, Sendable, Equatable {
    public var sha256: String
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    public var orientation: Int
    public var taken: String?
    public var camera: String?
    public var warnings: [String]
    public var stats: PixelStats
    public var features: Features
    public var phash: UInt64
    /// 16×16 RGB of the displayed photo (squashed to a square), to confirm near duplicates
    /// (base64 in the cache).
    public var thumb: Data
    /// The face cut out upright at 32×32 RGB for the learned occlusion tagger (`FaceCrop`): with
    /// faces searched, the face found aligned by its eyes; without, cut around the skin region. Nil
    /// when there is no such face, and in analyses read from the cache (the crops
    /// are kept apart, in `FaceStore`).
    public var face: Data? = nil
    /// What the face search found (`IngestOptions.faces`), and the options it ran under
    /// (`FaceOptions.key`): an analysis made under other options, or without a search, is made
    /// again. Both nil when faces were not looked for.
    public var finding: FaceFinding? = nil
    public var faceKey: String? = nil
    /// The face's quality issues (`no_face`, …), or why the search failed (`face_search_failed`).
    public var faceIssues: [String] = []

    enum CodingKeys: String, CodingKey {
        case sha256, format, width, height, orientation, taken, camera, warnings, stats, features, phash, thumb, finding, faceKey, faceIssues
    }
}

/// Raw pixel statistics behind the quality scores.
public struct PixelStats: Codable, Sendable, Equatable {
    /// cleanvision's perceived brightness of the channel means, 0…1.
    public var brightness: Double
    /// Variance of the 3×3 edge filter on gray (Pillow's FIND_EDGES), on the analysis image.
    public var edgeVariance: Double
    /// Shannon entropy of the gray histogram, bits (0…8).
    public var entropy: Double
    /// Mean spread max(R, G, B) − min(R, G, B), in levels.
    public var colourSpread: Double
}

/// The result of analysing one file: a photo, or why it cannot be used. Boxed (`indirect`): an
/// ingest passes thousands of outcomes through caches and lists, and a copy is then one retain
/// rather than one per string and buffer of the analysis.
public indirect enum AnalysisOutcome: Codable, Sendable, Equatable {
    case photo(PhotoAnalysis)
    case failed(sha256: String?, kind: String, reason: String)
}

public enum Analyzer {
    /// Bumped whenever what `analyze` computes changes: cached analyses of another version are redone.
    public static let version = 12
    /// Shorter side of the image that statistics and features are measured on.
    public static let analysisSide = 256

    public static func sha256(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for b in SHA256.hash(data: bytes) { hex.append(digits[Int(b >> 4)]); hex.append(digits[Int(b & 15)]) }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Decodes and measures `bytes` (the file at `path`, named in errors).
    /// `faces`: look for the face too (nil: do not).
    public static func analyze(_ bytes: [UInt8], sha256 hash: String, path: String, maxPixels: Int, faces: FaceOptions? = nil) -> AnalysisOutcome {
        let decoded: DecodedImage
        do {
            decoded = try ImageDecoder.decode(bytes, path: path, options: DecodeOptions(maxPixels: maxPixels, minimumSide: analysisSide))
        } catch {
            return .failed(sha256: hash, kind: error.kind.rawValue, reason: error.reason)
        }
        // One cascade of sizes: 256 px for the quality statistics, 128 px for the skin region,
        // 64 px for the border, the perceptual hash and the thumbnail.
        let image = decoded.image.resized(shorterSide: analysisSide)
        let stats = PixelStats(image)
        let medium = image.resized(shorterSide: Features.side)
        let small = medium.resized(shorterSide: Features.borderSide)
        var analysis = PhotoAnalysis(
            sha256: hash, format: decoded.format, width: decoded.displayedWidth, height: decoded.displayedHeight,
            orientation: decoded.orientation.rawValue, taken: decoded.exif?.dateTimeOriginal, camera: decoded.exif?.camera,
            warnings: decoded.warnings, stats: stats,
            features: Features(medium: medium, small: small, brightness: stats.brightness, exifBrightness: decoded.exif?.brightnessValue),
            phash: PerceptualHash.hash(small), thumb: Data(small.resized(width: 16, height: 16).pixels),
            // Searched faces give the crop below; the skin region is looked for only without.
            face: faces == nil ? FaceCrop.crop(medium) : nil)
        if let faces {
            let searched: Image
            (analysis.finding, analysis.faceIssues, searched) = findFace(decoded, bytes: bytes, path: path, maxPixels: maxPixels, options: faces)
            analysis.faceKey = faces.key
            // With faces searched, the crop the occlusion tagger sees is the face found, aligned by its eyes, or none.
            if let finding = analysis.finding {
                analysis.features.addFace(finding, width: decoded.displayedWidth, image: image, small: small)
                analysis.face = FaceCrop.aligned(searched, finding: finding, width: decoded.displayedWidth, height: decoded.displayedHeight)
            }
        }
        return .photo(analysis)
    }

    /// The face of a decoded photo, searched at `options.side`: the photo is decoded again larger
    /// when the analysis decode was reduced below that (the statistics stay those of the one
    /// reduced decode, whatever the face options). A search that fails is an issue, not a finding.
    static func findFace(_ decoded: DecodedImage, bytes: [UInt8], path: String, maxPixels: Int,
                         options: FaceOptions) -> (FaceFinding?, [String], searched: Image) {
        let (w, h) = (decoded.displayedWidth, decoded.displayedHeight)
        var image = decoded.image
        if min(image.width, image.height) < min(options.side, min(w, h)) {
            guard let larger = try? ImageDecoder.decode(bytes, path: path, options: DecodeOptions(maxPixels: maxPixels, minimumSide: options.side))
            else { return (nil, ["face_search_failed"], image) }
            image = larger.image
        }
        do {
            let finding = try FaceFinder.find(image, width: w, height: h, options: options)
            return (finding, finding.issues(width: w, height: h, options: options), image)
        } catch {
            return (nil, ["face_search_failed"], image)
        }
    }
}

extension PixelStats {
    init(_ image: Image) {
        let n = image.pixelCount
        var sums = [0.0, 0.0, 0.0]
        var spread = 0
        var histogram = [Int](repeating: 0, count: 256)
        let gray = image.grayscale()
        var sr = 0, sg = 0, sb = 0
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<n {
                let r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2]
                sr += Int(r); sg += Int(g); sb += Int(b)
                spread += Int(max(r, g, b)) - Int(min(r, g, b))
            }
        }
        sums = [Double(sr), Double(sg), Double(sb)]
        gray.pixels.withUnsafeBufferPointer { p in for v in p { histogram[Int(v)] += 1 } }
        brightness = PixelStats.perceivedBrightness(sums[0] / Double(n), sums[1] / Double(n), sums[2] / Double(n))
        colourSpread = Double(spread) / Double(n)
        entropy = histogram.reduce(0.0) { acc, count in
            guard count > 0 else { return acc }
            let p = Double(count) / Double(n)
            return acc - p * log2(p)
        }
        edgeVariance = PixelStats.edgeVariance(gray)
    }

    /// cleanvision's perceived brightness of channel means `r`, `g`, `b` (levels), 0…1.
    static func perceivedBrightness(_ r: Double, _ g: Double, _ b: Double) -> Double {
        (0.241 * r * r + 0.691 * g * g + 0.068 * b * b).squareRoot() / 255
    }

    /// Variance of Pillow's FIND_EDGES (8 × centre − 8 neighbours, clipped to 0…255) over interior pixels.
    static func edgeVariance(_ gray: Image) -> Double {
        let w = gray.width, h = gray.height
        guard w > 2, h > 2 else { return 0 }
        var sum = 0, sumSquares = 0
        gray.pixels.withUnsafeBufferPointer { p in
            for y in 1..<(h - 1) {
                let up = p.baseAddress! + (y - 1) * w, mid = up + w, down = mid + w
                for x in 1..<(w - 1) {
                    let ring = Int32(up[x - 1]) + Int32(up[x]) + Int32(up[x + 1]) + Int32(mid[x - 1])
                        + Int32(mid[x + 1]) + Int32(down[x - 1]) + Int32(down[x]) + Int32(down[x + 1])
                    let c = Int(min(max(8 * Int32(mid[x]) - ring, 0), 255))
                    sum += c
                    sumSquares += c * c
                }
            }
        }
        let count = Double((w - 2) * (h - 2))
        let mean = Double(sum) / count
        return Double(sumSquares) / count - mean * mean
    }
}
