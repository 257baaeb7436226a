import FacetImage

/// One accepted photo: the unit that flows through every stage. Encoded as one JSON
/// object per line of `manifest.jsonl` (keys in snake_case, documented in Manifests/README.md).
public struct Record: Codable, Sendable, Equatable {
    /// SHA-256 of the file's bytes, hex: the photo's stable identity.
    public var id: String
    /// Path relative to the dump root, `/`-separated.
    public var source: String
    public var format: ImageFormat
    /// As displayed (after EXIF orientation), at full size.
    public var width: Int
    public var height: Int
    /// EXIF orientation 1–8 (1 when absent or invalid).
    public var orientation: Int
    public var bytes: Int
    /// EXIF DateTimeOriginal, "YYYY:MM:DD HH:MM:SS".
    public var taken: String?
    public var camera: String?
    public var quality: Quality
    /// Names of the quality checks whose score reached their threshold.
    public var issues: [String]
    /// Pixel measurements the tag stage thresholds (so re-tagging never re-decodes).
    public var features: Features
    /// 64-bit perceptual hash (DCT of a 32×32 gray thumbnail), hex.
    public var phash: String
    public var conditions: Conditions?
    /// The face ingest found (`ingest: {faces: …}`); nil when faces are not looked for.
    public var face: FaceFinding? = nil
    public var label: String?
    /// Duplicate/burst group: records of one group always share a split. The smallest id in the group.
    public var group: String
    public var split: String?
    /// Warnings met while reading the file (broken EXIF, invalid orientation, …).
    public var warnings: [String]?
}

/// Quality scores, each in 0…1 where higher means more of the problem.
public struct Quality: Codable, Sendable, Equatable {
    public var dark: Double
    public var light: Double
    public var blurry: Double
    public var lowInformation: Double
    public var oddAspect: Double
    public var oddSize: Double
    public var grayscale: Double

    enum CodingKeys: String, CodingKey {
        case dark, light, blurry, grayscale
        case lowInformation = "low_information", oddAspect = "odd_aspect", oddSize = "odd_size"
    }
}

/// Raw measurements of the analysis image that condition tags are computed from.
public struct Features: Codable, Sendable, Equatable {
    /// Perceived brightness of the whole photo, 0…1 (cleanvision's formula on channel means).
    public var brightness: Double
    /// EXIF brightness value (APEX Bv) when the camera wrote one.
    public var exifBrightness: Double?
    /// Edge density of the border (top sixth, upper side sixths) at 64 px, exposure-normalised.
    public var borderEdges: Double
    /// Chromaticity spread of the same border.
    public var borderChroma: Double
    /// Left–right difference of the upper face's share in skin-coloured shade (a hand), 0…1.
    public var asymmetry: Double
    /// Left–right difference of its share in strong non-skin colours or near-black (an object), 0…1.
    public var foreign: Double
    /// With a face found at ingest (`FaceFeatures.swift`): the face's own perceived brightness,
    /// and the background outside the person — its share of the frame and its edge density and
    /// chromaticity spread (measured as the border's; nil when the share is under
    /// `minimumBackground`).
    public var faceBrightness: Double? = nil
    public var backgroundShare: Double? = nil
    public var backgroundEdges: Double? = nil
    public var backgroundChroma: Double? = nil

    enum CodingKeys: String, CodingKey {
        case brightness, asymmetry, foreign
        case exifBrightness = "exif_brightness", borderEdges = "border_edges", borderChroma = "border_chroma"
        case faceBrightness = "face_brightness", backgroundShare = "background_share"
        case backgroundEdges = "background_edges", backgroundChroma = "background_chroma"
    }
}

/// Condition tags: a value and the score it came from, or a sheet's word.
public struct Conditions: Codable, Sendable, Equatable {
    public struct Tag: Codable, Sendable, Equatable {
        /// The value, or `unknown` when the condition cannot be measured on this photo.
        public var value: String
        /// The computed score (kept when a sheet gives the value).
        public var score: Double?
        /// `auto` or `sheet`.
        public var source: String = "auto"
        /// Why the value is `unknown` (no face found, the face fills the frame, no colour).
        public var reason: String? = nil
        public init(value: String, score: Double?, reason: String? = nil) { self.value = value; self.score = score; self.reason = reason }
    }
    public var lighting: Tag
    public var background: Tag
    public var occlusion: Tag
    /// `auto`, or `sheet` when any tag came from a condition sheet.
    public var source: String
}

/// A file that cannot be used, and why.
public struct QuarantineRecord: Codable, Sendable, Equatable {
    public var source: String
    public var reason: String
    /// `empty`, `truncated`, `notAnImage`, `unsupported`, `corrupt`, `tooLarge`, `unreadable`.
    public var kind: String
    public var bytes: Int?
}

/// A file whose pixels another accepted file already has.
public struct DuplicateRecord: Codable, Sendable, Equatable {
    public var source: String
    public var id: String
    /// The id of the kept record.
    public var duplicateOf: String
    public var keptSource: String
    /// `bytes` (identical files) or `pixels` (same pixels after orientation, different bytes).
    public var match: String

    enum CodingKeys: String, CodingKey {
        case source, id, match
        case duplicateOf = "duplicate_of", keptSource = "kept_source"
    }
}
