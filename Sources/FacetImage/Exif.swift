import CEXIF
import Foundation

/// The EXIF facts facet reads and writes. Every field is optional: photos carry any subset.
public struct ExifInfo: Sendable, Equatable, Codable {
    /// The raw orientation value as stored (may be invalid: 0, 9, …); see `Orientation`.
    public var orientation: Int?
    /// DateTimeOriginal as written by the camera, "YYYY:MM:DD HH:MM:SS".
    public var dateTimeOriginal: String?
    public var make: String?
    public var model: String?
    /// Seconds.
    public var exposureTime: Double?
    public var fNumber: Double?
    public var iso: Int?
    /// APEX brightness value (Bv); low or negative in dim light.
    public var brightnessValue: Double?
    /// The Flash tag's bit field; bit 0 says the flash fired.
    public var flash: Int?
    /// Whether the file carries GPS (location) data. Never written by facet.
    public var hasGPS: Bool = false

    public init(orientation: Int? = nil, dateTimeOriginal: String? = nil, make: String? = nil,
                model: String? = nil, exposureTime: Double? = nil, fNumber: Double? = nil,
                iso: Int? = nil, brightnessValue: Double? = nil, flash: Int? = nil, hasGPS: Bool = false) {
        self.orientation = orientation
        self.dateTimeOriginal = dateTimeOriginal
        self.make = make
        self.model = model
        self.exposureTime = exposureTime
        self.fNumber = fNumber
        self.iso = iso
        self.brightnessValue = brightnessValue
        self.flash = flash
        self.hasGPS = hasGPS
    }

    /// "Canon EOS 80D" from make and model, without repeating the make.
    public var camera: String? {
        switch (make, model) {
        case let (m?, n?): n.lowercased().hasPrefix(m.lowercased()) ? n : "\(m) \(n)"
        case let (m?, nil): m
        case let (nil, n?): n
        default: nil
        }
    }
}

/// Reads and writes EXIF blocks through libexif.
public enum Exif {
    /// Parses an EXIF block: either an APP1 payload that starts with "Exif\0\0" or a
    /// raw TIFF structure (a PNG eXIf chunk). Returns the facts and any warnings; a block
    /// that cannot be parsed gives no facts and a warning, never an error.
    public static func read(_ block: [UInt8]) -> (info: ExifInfo, warnings: [String]) {
        var bytes = block
        if !(bytes.count >= 6 && bytes[0..<6].elementsEqual(Array("Exif".utf8) + [0, 0])) {
            bytes = Array("Exif".utf8) + [0, 0] + bytes
        }
        guard bytes.count >= 14, let data = exif_data_new() else {
            return (ExifInfo(), ["EXIF block too short (\(block.count) bytes), ignored"])
        }
        defer { exif_data_unref(data) }
        // Read what is there; do not let libexif "fix" the data by adding or dropping tags.
        exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION)
        bytes.withUnsafeBufferPointer { exif_data_load_data(data, $0.baseAddress, UInt32($0.count)) }

        let order = exif_data_get_byte_order(data)
        let ifd0 = content(data, EXIF_IFD_0), sub = content(data, EXIF_IFD_EXIF)
        let gps = content(data, EXIF_IFD_GPS)
        var info = ExifInfo()
        var warnings: [String] = []
        let total = [ifd0, sub, gps].reduce(0) { $0 + Int($1?.pointee.count ?? 0) }
        if total == 0 { warnings.append("EXIF block present but unreadable (no entries), ignored") }

        info.orientation = integer(entry(ifd0, EXIF_TAG_ORIENTATION), order)
        info.make = string(entry(ifd0, EXIF_TAG_MAKE))
        info.model = string(entry(ifd0, EXIF_TAG_MODEL))
        info.dateTimeOriginal = string(entry(sub, EXIF_TAG_DATE_TIME_ORIGINAL))
        info.exposureTime = real(entry(sub, EXIF_TAG_EXPOSURE_TIME), order)
        info.fNumber = real(entry(sub, EXIF_TAG_FNUMBER), order)
        info.iso = integer(entry(sub, EXIF_TAG_ISO_SPEED_RATINGS), order)
        info.brightnessValue = real(entry(sub, EXIF_TAG_BRIGHTNESS_VALUE), order)
        info.flash = integer(entry(sub, EXIF_TAG_FLASH), order)
        info.hasGPS = (gps?.pointee.count ?? 0) > 0
        return (info, warnings)
    }

    /// An APP1 payload ("Exif\0\0" + TIFF) holding orientation, date, camera and exposure
    /// facts of `info`. Location is never written, whatever `info.hasGPS` says.
    public static func makeBlock(_ info: ExifInfo) -> [UInt8] {
        guard let data = exif_data_new() else { return [] }
        defer { exif_data_unref(data) }
        exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION)
        exif_data_set_byte_order(data, EXIF_BYTE_ORDER_INTEL)
        let order = EXIF_BYTE_ORDER_INTEL
        let ifd0 = content(data, EXIF_IFD_0), sub = content(data, EXIF_IFD_EXIF)

        if let o = info.orientation { add(ifd0, EXIF_TAG_ORIENTATION, shorts: [UInt16(clamping: o)], order) }
        if let m = info.make { add(ifd0, EXIF_TAG_MAKE, ascii: m) }
        if let m = info.model { add(ifd0, EXIF_TAG_MODEL, ascii: m) }
        add(sub, EXIF_TAG_EXIF_VERSION, undefined: Array("0230".utf8))
        if let d = info.dateTimeOriginal { add(sub, EXIF_TAG_DATE_TIME_ORIGINAL, ascii: d) }
        if let t = info.exposureTime { add(sub, EXIF_TAG_EXPOSURE_TIME, rational: t, order) }
        if let f = info.fNumber { add(sub, EXIF_TAG_FNUMBER, rational: f, order) }
        if let i = info.iso { add(sub, EXIF_TAG_ISO_SPEED_RATINGS, shorts: [UInt16(clamping: i)], order) }
        if let b = info.brightnessValue { add(sub, EXIF_TAG_BRIGHTNESS_VALUE, srational: b, order) }
        if let f = info.flash { add(sub, EXIF_TAG_FLASH, shorts: [UInt16(clamping: f)], order) }

        var out: UnsafeMutablePointer<UInt8>?
        var size: UInt32 = 0
        exif_data_save_data(data, &out, &size)
        guard let out else { return [] }
        defer { free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }

    // MARK: - libexif plumbing

    private typealias Content = UnsafeMutablePointer<ExifContent>
    private typealias Entry = UnsafeMutablePointer<ExifEntry>

    private static func content(_ data: UnsafeMutablePointer<ExifData>, _ ifd: ExifIfd) -> Content? {
        withUnsafeBytes(of: data.pointee.ifd) { raw in
            raw.bindMemory(to: Content?.self)[Int(ifd.rawValue)]
        }
    }

    private static func entry(_ content: Content?, _ tag: ExifTag) -> Entry? {
        guard let content else { return nil }
        return exif_content_get_entry(content, tag)
    }

    private static func bytes(_ e: Entry) -> UnsafeBufferPointer<UInt8>? {
        guard let data = e.pointee.data, e.pointee.size > 0 else { return nil }
        return UnsafeBufferPointer(start: data, count: Int(e.pointee.size))
    }

    private static func string(_ e: Entry?) -> String? {
        guard let e, e.pointee.format == EXIF_FORMAT_ASCII, let b = bytes(e) else { return nil }
        let text = String(decoding: b.prefix { $0 != 0 }, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    private static func integer(_ e: Entry?, _ order: ExifByteOrder) -> Int? {
        guard let e, e.pointee.components >= 1, let b = bytes(e) else { return nil }
        switch e.pointee.format {
        case EXIF_FORMAT_SHORT where b.count >= 2: return Int(exif_get_short(b.baseAddress, order))
        case EXIF_FORMAT_LONG where b.count >= 4: return Int(exif_get_long(b.baseAddress, order))
        case EXIF_FORMAT_BYTE where b.count >= 1: return Int(b[0])
        default: return nil
        }
    }

    private static func real(_ e: Entry?, _ order: ExifByteOrder) -> Double? {
        guard let e, e.pointee.components >= 1, let b = bytes(e), b.count >= 8 else { return nil }
        switch e.pointee.format {
        case EXIF_FORMAT_RATIONAL:
            let r = exif_get_rational(b.baseAddress, order)
            return r.denominator == 0 ? nil : Double(r.numerator) / Double(r.denominator)
        case EXIF_FORMAT_SRATIONAL:
            let r = exif_get_srational(b.baseAddress, order)
            return r.denominator == 0 ? nil : Double(r.numerator) / Double(r.denominator)
        default: return nil
        }
    }

    /// Adds an entry whose data facet allocates (libexif frees it with free()).
    private static func add(_ content: Content?, _ tag: ExifTag, format: ExifFormat, components: Int,
                            fill: (UnsafeMutablePointer<UInt8>) -> Void) {
        guard let content, let e = exif_entry_new() else { return }
        defer { exif_entry_unref(e) }
        let size = Int(exif_format_get_size(format)) * components
        guard let data = malloc(size)?.assumingMemoryBound(to: UInt8.self) else { return }
        memset(data, 0, size)
        fill(data)
        e.pointee.tag = tag
        e.pointee.format = format
        e.pointee.components = UInt(components)
        e.pointee.size = UInt32(size)
        e.pointee.data = data
        exif_content_add_entry(content, e)
    }

    private static func add(_ c: Content?, _ tag: ExifTag, ascii: String) {
        let text = Array(ascii.utf8.prefix(255)) + [0]
        add(c, tag, format: EXIF_FORMAT_ASCII, components: text.count) { p in
            for (i, b) in text.enumerated() { p[i] = b }
        }
    }

    private static func add(_ c: Content?, _ tag: ExifTag, undefined: [UInt8]) {
        add(c, tag, format: EXIF_FORMAT_UNDEFINED, components: undefined.count) { p in
            for (i, b) in undefined.enumerated() { p[i] = b }
        }
    }

    private static func add(_ c: Content?, _ tag: ExifTag, shorts: [UInt16], _ order: ExifByteOrder) {
        add(c, tag, format: EXIF_FORMAT_SHORT, components: shorts.count) { p in
            for (i, v) in shorts.enumerated() { exif_set_short(p + 2 * i, order, v) }
        }
    }

    private static func add(_ c: Content?, _ tag: ExifTag, rational value: Double, _ order: ExifByteOrder) {
        let (n, d) = fraction(abs(value))
        add(c, tag, format: EXIF_FORMAT_RATIONAL, components: 1) { p in
            exif_set_rational(p, order, ExifRational(numerator: UInt32(n), denominator: UInt32(d)))
        }
    }

    private static func add(_ c: Content?, _ tag: ExifTag, srational value: Double, _ order: ExifByteOrder) {
        let (n, d) = fraction(abs(value))
        let sign: Int32 = value < 0 ? -1 : 1
        add(c, tag, format: EXIF_FORMAT_SRATIONAL, components: 1) { p in
            exif_set_srational(p, order, ExifSRational(numerator: sign * Int32(n), denominator: Int32(d)))
        }
    }

    /// A fraction close to `x` (x ≥ 0): 1/n for short exposures, else thousandths.
    private static func fraction(_ x: Double) -> (Int, Int) {
        if x > 0 && x < 1, (1 / x).rounded() == 1 / x { return (1, Int(1 / x)) }
        let scaled = min(x * 1000, Double(Int32.max)).rounded()
        return (Int(scaled), 1000)
    }
}
