import CCodecs
import Foundation

/// JPEG and PNG encoding through libjpeg and libpng.
public enum ImageEncoder {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// JPEG bytes at `quality` (1–100). When `exif` is given, its orientation, date, camera
    /// and exposure facts are written in an APP1 block; location is never written.
    public static func jpeg(_ image: Image, quality: Int = 90, exif: ExifInfo? = nil) throws(Failure) -> [UInt8] {
        let block = exif.map(Exif.makeBlock) ?? []
        var status = fc_status()
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        let code = image.pixels.withUnsafeBufferPointer { px in
            block.withUnsafeBufferPointer { app1 in
                fc_jpeg_encode(px.baseAddress, UInt32(image.width), UInt32(image.height), Int32(image.channels),
                               Int32(quality), app1.isEmpty ? nil : app1.baseAddress, app1.count, &out, &size, &status)
            }
        }
        return try collect(code, out, size, status)
    }

    /// PNG bytes (8-bit gray or RGB) at zlib `compressionLevel` 0–9.
    public static func png(_ image: Image, compressionLevel: Int = 6) throws(Failure) -> [UInt8] {
        var status = fc_status()
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        let code = image.pixels.withUnsafeBufferPointer { px in
            fc_png_encode(px.baseAddress, UInt32(image.width), UInt32(image.height), Int32(image.channels),
                          Int32(compressionLevel), &out, &size, &status)
        }
        return try collect(code, out, size, status)
    }

    private static func collect(_ code: Int32, _ out: UnsafeMutablePointer<UInt8>?, _ size: Int,
                                _ status: fc_status) throws(Failure) -> [UInt8] {
        defer { fc_free(out) }
        guard code == FC_OK.rawValue, let out else { throw Failure(description: "encode failed: \(ImageDecoder.message(status))") }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }
}
