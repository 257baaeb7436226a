import CCodecs

/// libpng decode through CCodecs.
enum _PNG {
    static func decode(_ bytes: [UInt8], options: DecodeOptions, path: String) throws(ImageError) -> DecodedImage {
        var status = fc_status()
        var info = fc_png_info()
        let result: Result<DecodedImage, ImageError> = bytes.withUnsafeBufferPointer { buffer in
            guard let dec = fc_png_open(buffer.baseAddress, buffer.count, &info, &status) else {
                return .failure(ImageDecoder.error(status, path: path, context: "PNG header"))
            }
            defer { fc_png_close(dec) }
            let width = Int(info.width), height = Int(info.height)
            if let error = ImageDecoder.sizeError(width, height, options: options, path: path) {
                return .failure(error)
            }
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            let code = pixels.withUnsafeMutableBufferPointer { fc_png_read(dec, $0.baseAddress, $0.count, &status) }
            if code != FC_OK.rawValue {
                return .failure(ImageDecoder.error(status, path: path, context: "PNG data"))
            }
            var size = 0
            let block = fc_png_exif(dec, &size).map { Array(UnsafeBufferPointer(start: $0, count: size)) }
            var (exif, orientation, warnings) = ImageDecoder.readExif(block)
            if status.warnings > 0 {
                warnings.append("PNG: \(status.warnings) warning(s), last: \(ImageDecoder.message(status))")
            }
            let image = Image(width: width, height: height, channels: 3, pixels: pixels)
            return .success(DecodedImage(image: image, format: .png, storedWidth: width, storedHeight: height,
                                         orientation: orientation, exif: exif, warnings: warnings))
        }
        return try result.get()
    }
}
