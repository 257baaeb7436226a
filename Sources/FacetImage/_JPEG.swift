import CCodecs

/// libjpeg decode through CCodecs.
enum _JPEG {
    static func decode(_ bytes: [UInt8], options: DecodeOptions, path: String) throws(ImageError) -> DecodedImage {
        var status = fc_status()
        var info = fc_jpeg_info()
        let result: Result<DecodedImage, ImageError> = bytes.withUnsafeBufferPointer { buffer in
            guard let dec = fc_jpeg_open(buffer.baseAddress, buffer.count, &info, &status) else {
                return .failure(ImageDecoder.error(status, path: path, context: "JPEG header"))
            }
            defer { fc_jpeg_close(dec) }
            let width = Int(info.width), height = Int(info.height)
            if let error = ImageDecoder.sizeError(width, height, options: options, path: path) {
                return .failure(error)
            }
            let block = info.exif.map { Array(UnsafeBufferPointer(start: $0, count: info.exif_size)) }
            let (exif, orientation, warnings) = ImageDecoder.readExif(block)

            let scale = scaleNumerator(width: width, height: height, minimumSide: options.minimumSide)
            var outW: UInt32 = 0, outH: UInt32 = 0
            var outC: Int32 = 0
            guard fc_jpeg_start(dec, Int32(scale), &outW, &outH, &outC, &status) == FC_OK.rawValue else {
                return .failure(ImageDecoder.error(status, path: path, context: "JPEG"))
            }
            var pixels = [UInt8](repeating: 0, count: Int(outW) * Int(outH) * 3)
            let code = pixels.withUnsafeMutableBufferPointer { fc_jpeg_read(dec, $0.baseAddress, $0.count, &status) }
            if code != FC_OK.rawValue {
                return .failure(ImageDecoder.error(status, path: path, context: "JPEG data"))
            }
            var all = warnings
            if status.warnings > 0 {
                let text = ImageDecoder.message(status)
                if options.strict {
                    return .failure(ImageError(.corrupt, path: path, reason: "damaged JPEG data: \(text)"))
                }
                all.append("JPEG: \(status.warnings) warning(s), last: \(text)")
            }
            let image = Image(width: Int(outW), height: Int(outH), channels: 3, pixels: pixels)
            return .success(DecodedImage(image: image, format: .jpeg, storedWidth: width, storedHeight: height,
                                         orientation: orientation, exif: exif, warnings: all))
        }
        return try result.get()
    }

    /// The smallest n in 1…8 for which an n/8 decode keeps the shorter side ≥ `minimumSide`.
    static func scaleNumerator(width: Int, height: Int, minimumSide: Int?) -> Int {
        guard let side = minimumSide, side > 0 else { return 8 }
        for n in 1...8 {
            let w = (width * n + 7) / 8, h = (height * n + 7) / 8
            if min(w, h) >= side { return n }
        }
        return 8
    }
}
