import CCodecs
import FacetCore
import Foundation

/// How to decode. The defaults refuse anything over 100 megapixels or 1 GiB of file.
public struct DecodeOptions: Sendable {
    /// Images whose stored pixel count exceeds this are refused before any pixel is allocated.
    public var maxPixels: Int = 100_000_000
    /// Files larger than this are refused before they are read.
    public var maxBytes: Int = 1 << 30
    /// When set, a JPEG is decoded at the smallest DCT scale (n/8, libjpeg's
    /// scale_num/scale_denom) whose shorter side is still at least this many pixels, so a
    /// 24-megapixel photo headed for 224 px never decodes at full size. PNG has no such mode.
    public var minimumSide: Int? = nil
    /// Apply the EXIF orientation so the image is as displayed.
    public var applyOrientation: Bool = true
    /// Treat a JPEG's corrupt-data warnings (damaged entropy data the codec papered over
    /// with gray) as errors. Truncation is always an error.
    public var strict: Bool = true
    /// Images whose longer side is more than this many times their shorter side are refused
    /// before decoding: every use of a photo scales its shorter side to a working size, so a
    /// 1×60000 strip would become a 256×15,360,000 buffer. nil accepts any shape (`inspect`).
    public var maxAspectRatio: Int? = DecodeOptions.defaultMaxAspectRatio
    public static let defaultMaxAspectRatio = 50

    public init(maxPixels: Int = 100_000_000, maxBytes: Int = 1 << 30, minimumSide: Int? = nil,
                applyOrientation: Bool = true, strict: Bool = true,
                maxAspectRatio: Int? = DecodeOptions.defaultMaxAspectRatio) {
        self.maxAspectRatio = maxAspectRatio
        self.maxPixels = maxPixels
        self.maxBytes = maxBytes
        self.minimumSide = minimumSide
        self.applyOrientation = applyOrientation
        self.strict = strict
    }
}

/// A decoded photo and what was learnt about it on the way.
public struct DecodedImage: Sendable {
    /// RGB pixels, as displayed when orientation was applied.
    public var image: Image
    public var format: ImageFormat
    /// Size as stored in the file, at full scale, before orientation.
    public var storedWidth: Int
    public var storedHeight: Int
    public var orientation: Orientation
    public var exif: ExifInfo?
    /// Problems that did not stop the decode (broken EXIF, invalid orientation, …).
    public var warnings: [String]

    /// Full-scale size as displayed (after orientation), whatever scale was decoded.
    public var displayedWidth: Int { orientation.swapsAxes ? storedHeight : storedWidth }
    public var displayedHeight: Int { orientation.swapsAxes ? storedWidth : storedHeight }
}

/// Decodes JPEG and PNG from bytes or files, safely: every failure is an `ImageError`.
public enum ImageDecoder {
    /// Reads and decodes the file at `path`.
    public static func decode(file path: String, options: DecodeOptions = DecodeOptions()) throws(ImageError) -> DecodedImage {
        let bytes = try readFile(path, maxBytes: options.maxBytes)
        return try decode(bytes, path: path, options: options)
    }

    /// Decodes `bytes`; `path` only names the source in errors.
    public static func decode(_ bytes: [UInt8], path: String = "<memory>",
                              options: DecodeOptions = DecodeOptions()) throws(ImageError) -> DecodedImage {
        if bytes.isEmpty { throw ImageError(.empty, path: path, reason: "the file has no bytes") }
        guard let format = ImageFormat.sniff(bytes) else {
            throw ImageError(.notAnImage, path: path, reason: "the bytes are not a JPEG or PNG (nor any known image format)")
        }
        var decoded: DecodedImage
        switch format {
        case .jpeg: decoded = try _JPEG.decode(bytes, options: options, path: path)
        case .png: decoded = try _PNG.decode(bytes, options: options, path: path)
        default:
            throw ImageError(.unsupported, path: path,
                             reason: "\(format.rawValue.uppercased()) images are not decoded; convert to JPEG or PNG")
        }
        if options.applyOrientation { decoded.image = decoded.image.applying(decoded.orientation) }
        return decoded
    }

    /// The whole file, after checking it exists, is a regular file and is not over `maxBytes`.
    public static func readFile(_ path: String, maxBytes: Int = 1 << 30) throws(ImageError) -> [UInt8] {
        var st = stat()
        guard stat(FileName.cString(path), &st) == 0 else {
            throw ImageError(.unreadable, path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw ImageError(.unreadable, path: path, reason: "not a regular file")
        }
        if st.st_size == 0 { throw ImageError(.empty, path: path, reason: "the file has no bytes") }
        if Int(st.st_size) > maxBytes {
            throw ImageError(.tooLarge, path: path, reason: "\(st.st_size) bytes, over the limit of \(maxBytes)")
        }
        guard let bytes = FileSystem.read(path, limit: maxBytes) else {
            throw ImageError(.unreadable, path: path, reason: "cannot be read: \(String(cString: strerror(errno)))")
        }
        if bytes.isEmpty { throw ImageError(.empty, path: path, reason: "the file has no bytes") }
        return bytes
    }

    static func error(_ status: fc_status, path: String, context: String) -> ImageError {
        let message = withUnsafeBytes(of: status.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let kind: ImageError.Kind = switch status.code {
        case FC_ERR_TRUNCATED: .truncated
        case FC_ERR_UNSUPPORTED: .unsupported
        case FC_ERR_TOO_LARGE: .tooLarge
        case FC_ERR_MEMORY: .tooLarge
        default: .corrupt
        }
        return ImageError(kind, path: path, reason: message.isEmpty ? context : "\(context): \(message)")
    }

    static func message(_ status: fc_status) -> String {
        withUnsafeBytes(of: status.message) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Why a header's size cannot be decoded, or nil: checked before any pixel is allocated.
    static func sizeError(_ width: Int, _ height: Int, options: DecodeOptions, path: String) -> ImageError? {
        let limit = options.maxPixels
        if width <= 0 || height <= 0 {
            return ImageError(.corrupt, path: path, reason: "the header gives an empty size \(width)x\(height)")
        }
        let (long, short) = (max(width, height), min(width, height))
        if let ratio = options.maxAspectRatio, case let (bound, overflow) = short.multipliedReportingOverflow(by: ratio),
           !overflow, long > bound {
            let shape = width < height ? "1:\((height + width / 2) / width)" : "\((width + height / 2) / height):1"
            return ImageError(.tooLarge, path: path,
                              reason: "extreme aspect ratio \(shape) (\(width)x\(height); facet accepts up to 1:\(ratio))")
        }
        if width.multipliedReportingOverflow(by: height).overflow || width * height > limit {
            return ImageError(.tooLarge, path: path,
                              reason: "\(width)x\(height) is over the limit of \(limit) pixels")
        }
        return nil
    }

    /// Orientation and warnings from an optional EXIF block.
    static func readExif(_ block: [UInt8]?) -> (ExifInfo?, Orientation, [String]) {
        guard let block else { return (nil, .up, []) }
        var (info, warnings) = Exif.read(block)
        if let raw = info.orientation, Orientation(rawValue: raw) == nil {
            warnings.append("invalid EXIF orientation \(raw), treated as 1")
        }
        return (info, Orientation(exifValue: info.orientation), warnings)
    }
}

extension ImageDecoder {
    /// The photo at `path` as a `side` × `side` RGB square, the way a training loader wants
    /// it: decoded at the smallest DCT scale that keeps `side` pixels, turned upright, the
    /// shorter side resized to `side` (antialiased), then centre-cropped.
    public static func decodeSquare(file path: String, side: Int, maxPixels: Int = 100_000_000) throws(ImageError) -> Image {
        try decode(file: path, options: DecodeOptions(maxPixels: maxPixels, minimumSide: side)).image.resizedSquare(side)
    }
}
