import FacetImage
import Foundation
import Synchronization

/// How faces are looked for at ingest (`ingest: {faces: …}` in a pipeline, `facet faces` flags).
public struct FaceOptions: Codable, Sendable, Equatable {
    /// Photos are reduced so that their shorter side is at most this before the search.
    public var side = 480
    /// 2× enlargements before the search; nil (auto): one for a photo whose shorter side is under
    /// `side`, and for a larger one where a first search without found no face (the detector
    /// finds faces of about 80 px and up, 40 px after one enlargement).
    public var upsample: Int?
    /// Added to dlib's detection threshold: below 0 finds more faces, covered ones included, and
    /// more false ones. The best-scoring face is the photo's face.
    public var threshold = -0.5
    /// Another face counts (`several_faces`) only at this score or above (dlib's own threshold).
    public var otherFaceScore = 0.0
    /// A face whose box is narrower than this, in the photo's pixels, is `small_face`.
    public var minSize = 40
    /// Place the 68 landmarks (needs libdlib-data's model).
    public var landmarks = true

    public init() {}

    /// The options as one line: a cached finding made under other options is made again.
    public var key: String {
        "side \(side) upsample \(upsample.map(String.init) ?? "auto") threshold \(threshold) others \(otherFaceScore) "
            + "min_size \(minSize) landmarks \(landmarks)"
    }

    /// What is wrong with the options, if anything.
    public var problem: String? {
        if !(64...4096).contains(side) { return "faces.side must be 64…4096" }
        if let u = upsample, !(0...2).contains(u) { return "faces.upsample must be 0, 1 or 2" }
        if !(-2...2).contains(threshold) { return "faces.threshold must be in -2…2" }
        if !(0...10_000).contains(minSize) { return "faces.min_size must be 0…10000" }
        return nil
    }
}

/// What face detection found in one photo, in the displayed photo's pixels (EXIF orientation
/// applied, full size).
public struct FaceFinding: Codable, Sendable, Equatable {
    /// Faces counted: the chosen one and the others scoring at least `otherFaceScore`.
    public var faces: Int
    /// The best-scoring face; nil when none was found.
    public var box: FaceBox?
    /// Its 68 landmarks (iBUG 300-W order: jaw 0–16, brows 17–26, nose 27–35, eyes 36–47, mouth
    /// 48–67), rounded to a tenth of a pixel; empty without a face or without the model.
    public var landmarks: [FacePoint]
    /// The other boxes found at the search threshold, best first.
    public var others: [FaceBox]
    /// The size searched and the enlargements: what the figures came from.
    public var searchedWidth: Int
    public var searchedHeight: Int
    public var upsample: Int

    enum CodingKeys: String, CodingKey {
        case faces, box, landmarks, others, upsample
        case searchedWidth = "searched_width", searchedHeight = "searched_height"
    }

    public init(faces: Int, box: FaceBox?, landmarks: [FacePoint], others: [FaceBox], searchedWidth: Int, searchedHeight: Int, upsample: Int) {
        (self.faces, self.box, self.landmarks, self.others) = (faces, box, landmarks, others)
        (self.searchedWidth, self.searchedHeight, self.upsample) = (searchedWidth, searchedHeight, upsample)
    }

    // Landmarks as one flat list x0, y0, x1, y1, … (a record carries 136 numbers, not 68 objects).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(faces, forKey: .faces)
        try c.encodeIfPresent(box, forKey: .box)
        try c.encode(landmarks.flatMap { [$0.x, $0.y] }, forKey: .landmarks)
        try c.encode(others, forKey: .others)
        try c.encode(searchedWidth, forKey: .searchedWidth)
        try c.encode(searchedHeight, forKey: .searchedHeight)
        try c.encode(upsample, forKey: .upsample)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let flat = try c.decode([Double].self, forKey: .landmarks)
        guard flat.count % 2 == 0 else {
            throw DecodingError.dataCorruptedError(forKey: .landmarks, in: c, debugDescription: "an odd count of landmark coordinates")
        }
        self.init(faces: try c.decode(Int.self, forKey: .faces), box: try c.decodeIfPresent(FaceBox.self, forKey: .box),
                  landmarks: FacePoint.pairs(flat), others: try c.decode([FaceBox].self, forKey: .others),
                  searchedWidth: try c.decode(Int.self, forKey: .searchedWidth), searchedHeight: try c.decode(Int.self, forKey: .searchedHeight),
                  upsample: try c.decode(Int.self, forKey: .upsample))
    }

    /// The centres of the two eyes (the means of points 36–41 and 42–47), the left one in the
    /// image first; nil without landmarks.
    public var eyes: (left: FacePoint, right: FacePoint)? {
        guard landmarks.count >= 48 else { return nil }
        func centre(_ r: Range<Int>) -> FacePoint {
            FacePoint(x: r.map { landmarks[$0].x }.reduce(0, +) / 6, y: r.map { landmarks[$0].y }.reduce(0, +) / 6)
        }
        let a = centre(36..<42), b = centre(42..<48)
        return a.x <= b.x ? (a, b) : (b, a)
    }

    /// The quality issues of the face: `no_face`, `several_faces`, `small_face`, `face_cut`
    /// (the box reaches past the photo's edge).
    public func issues(width: Int, height: Int, options: FaceOptions) -> [String] {
        guard let box else { return ["no_face"] }
        var out: [String] = []
        if box.left < 0 || box.top < 0 || box.right > Double(width - 1) || box.bottom > Double(height - 1) { out.append("face_cut") }
        if faces > 1 { out.append("several_faces") }
        if box.width < Double(options.minSize) { out.append("small_face") }
        return out
    }
}

public enum FaceFinder {
    /// The landmark model, read once on first use (about a second: 99 MB) and shared.
    private static let landmarker = Mutex<Result<FaceLandmarker, FaceError>?>(nil)

    static func sharedLandmarker() throws(FaceError) -> FaceLandmarker {
        try landmarker.withLock { loaded in
            if loaded == nil { loaded = Result { () throws(FaceError) in try FaceLandmarker() } }
            return loaded!
        }.get()
    }

    /// Why faces cannot be looked for under `options` on this machine (the landmark model
    /// missing), checked before a run rather than found once per photo; nil when they can.
    public static func setupProblem(_ options: FaceOptions) -> String? {
        guard options.landmarks, !FileManager.default.fileExists(atPath: FaceLandmarker.defaultModel) else { return nil }
        return "\(FaceLandmarker.defaultModel): no face landmark model (on Debian: apt install libdlib-data)"
    }

    /// Finds the face of a decoded photo. `image` may be any reduction of the displayed photo
    /// whose full size is `width` × `height`: boxes and landmarks come back at full size.
    public static func find(_ image: Image, width: Int, height: Int, options: FaceOptions) throws(FaceError) -> FaceFinding {
        let searched = min(image.width, image.height) > options.side ? image.resized(shorterSide: options.side) : image
        var upsample = options.upsample ?? (min(searched.width, searched.height) < options.side ? 1 : 0)
        var found = try FaceDetector.detect(searched, upsample: upsample, threshold: options.threshold)
        // Auto: a photo where nothing was found is searched once more, enlarged, for a face under
        // about 80 px of the searched image (costly, so only where the first search found none).
        if found.isEmpty && options.upsample == nil && upsample == 0 {
            upsample = 1
            found = try FaceDetector.detect(searched, upsample: upsample, threshold: options.threshold)
        }
        let scale = Double(width) / Double(searched.width)
        var finding = FaceFinding(faces: 0, box: nil, landmarks: [], others: [], searchedWidth: searched.width,
                                  searchedHeight: searched.height, upsample: upsample)
        guard let best = found.first else { return finding }
        finding.box = best.scaled(scale).rounded
        finding.others = found.dropFirst().map { $0.scaled(scale).rounded }
        finding.faces = 1 + found.dropFirst().filter { $0.score >= options.otherFaceScore }.count
        if options.landmarks {
            finding.landmarks = try sharedLandmarker().place(searched, in: best).map {
                FacePoint(x: ($0.x * scale * 10).rounded() / 10, y: ($0.y * scale * 10).rounded() / 10)
            }
        }
        return finding
    }
}

extension FaceBox {
    /// Coordinates to a tenth of a pixel, the score to four places: what records keep.
    var rounded: FaceBox {
        func r(_ x: Double, _ k: Double) -> Double { (x * k).rounded() / k }
        return FaceBox(left: r(left, 10), top: r(top, 10), right: r(right, 10), bottom: r(bottom, 10), score: r(score, 10_000))
    }
}

/// One line on the faces of records: how many have one, several, none, and the other issues.
public enum FaceSummary {
    public static func line(_ records: [Record]) -> String {
        let searched = records.filter { $0.face != nil || $0.issues.contains("face_search_failed") }
        guard !searched.isEmpty else { return "not looked for" }
        let found = searched.filter { $0.face?.box != nil }.count
        var parts = ["\(found) of \(searched.count) photos with a face"]
        for issue in ["several_faces", "no_face", "small_face", "face_cut", "face_search_failed"] {
            let n = searched.filter { $0.issues.contains(issue) }.count
            if n > 0 { parts.append("\(n) \(issue)") }
        }
        return parts.joined(separator: ", ")
    }
}
