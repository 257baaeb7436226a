import Foundation

/// What `facet inspect` says about one file: the decode's facts, or why it failed.
public struct Inspection: Sendable, Encodable {
    public var path: String
    public var ok: Bool
    public var format: ImageFormat?
    /// Displayed size (after orientation), at full scale.
    public var width: Int?
    public var height: Int?
    public var orientation: Int?
    public var exif: ExifInfo?
    public var warnings: [String]
    public var error: String?
    public var errorKind: ImageError.Kind?

    /// Decodes `path` fully (at 1/8 DCT scale for JPEG: every byte of entropy data is still
    /// checked) and records the outcome.
    public init(path: String, maxPixels: Int = 100_000_000) {
        self.path = path
        do {
            let options = DecodeOptions(maxPixels: maxPixels, minimumSide: 1, applyOrientation: false, maxAspectRatio: nil)
            let decoded = try ImageDecoder.decode(file: path, options: options)
            ok = true
            format = decoded.format
            width = decoded.displayedWidth
            height = decoded.displayedHeight
            orientation = decoded.orientation.rawValue
            exif = decoded.exif
            warnings = decoded.warnings
        } catch {
            ok = false
            warnings = []
            self.error = error.reason
            errorKind = error.kind
        }
    }

    enum CodingKeys: String, CodingKey {
        case path, ok, format, width, height, orientation, exif, warnings, error
        case errorKind = "error_kind"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(ok, forKey: .ok)
        try c.encode(format, forKey: .format)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(orientation, forKey: .orientation)
        try c.encodeIfPresent(exif, forKey: .exif)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(error, forKey: .error)
        try c.encode(errorKind, forKey: .errorKind)
    }

    /// One JSON object, keys sorted, no newline.
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return #"{"ok":false,"error":"unencodable"}"# }
        return String(decoding: data, as: UTF8.self)
    }

    /// "photo.jpg: JPEG 4000x3000, orientation 6, Canon EOS 80D, 2024:03:01 10:00:00, 1/60 s, f/2.8, ISO 800"
    public func textLine() -> String {
        guard ok, let format, let width, let height else {
            return "\(path): error: \(errorKind?.label ?? "failed"): \(error ?? "")"
        }
        var parts = ["\(format.rawValue.uppercased()) \(width)x\(height)", "orientation \(orientation ?? 1)"]
        if let e = exif {
            if let camera = e.camera { parts.append(camera) }
            if let date = e.dateTimeOriginal { parts.append(date) }
            if let t = e.exposureTime { parts.append(t < 1 && t > 0 ? "1/\(Int((1 / t).rounded())) s" : "\(t) s") }
            if let f = e.fNumber { parts.append(String(format: "f/%.1f", f)) }
            if let iso = e.iso { parts.append("ISO \(iso)") }
            if let bv = e.brightnessValue { parts.append(String(format: "Bv %.1f", bv)) }
            if let flash = e.flash { parts.append(flash & 1 == 1 ? "flash fired" : "no flash") }
            if e.hasGPS { parts.append("GPS present") }
        } else {
            parts.append("no EXIF")
        }
        for w in warnings { parts.append("warning: \(w)") }
        return "\(path): " + parts.joined(separator: ", ")
    }
}
