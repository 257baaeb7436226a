import CFace
import FacetImage
import Foundation
import Synchronization

/// A face box in an image's pixel coordinates, and the detector's score for it.
public struct FaceBox: Codable, Sendable, Equatable {
    public var left: Double
    public var top: Double
    public var right: Double
    public var bottom: Double
    public var score: Double

    public init(left: Double, top: Double, right: Double, bottom: Double, score: Double) {
        (self.left, self.top, self.right, self.bottom, self.score) = (left, top, right, bottom, score)
    }

    public var width: Double { right - left }
    public var height: Double { bottom - top }

    /// The box with its coordinates multiplied by `f` (from a resized image back to the photo).
    public func scaled(_ f: Double) -> FaceBox {
        FaceBox(left: left * f, top: top * f, right: right * f, bottom: bottom * f, score: score)
    }
}

public struct FaceError: Error, CustomStringConvertible, Sendable {
    public var description: String

    /// The shim's NUL-terminated message.
    static func message(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// dlib's HOG frontal-face detector (through the C++ shim `CFace`). dlib forbids concurrent use of
/// one detector, so each call borrows one from a pool and gives it back: as many exist as threads
/// ever searched at once.
public enum FaceDetector {
    /// Idle detectors, by address.
    private static let pool = Mutex<[UInt]>([])

    /// The faces in `image` (gray or RGB), best score first. `upsample`: times the image is
    /// enlarged 2× before the search (the detector finds faces of about 80 px and up, 40 px after
    /// one); `threshold`: added to the detector's own (negative finds more, and more false faces).
    public static func detect(_ image: Image, upsample: Int = 0, threshold: Double = 0) throws(FaceError) -> [FaceBox] {
        guard image.channels == 1 || image.channels == 3 else { throw FaceError(description: "face detection takes gray or RGB images") }
        var error = [CChar](repeating: 0, count: 256)
        let borrowed = pool.withLock { $0.popLast() }.flatMap { OpaquePointer(bitPattern: $0) }
        guard let detector = borrowed ?? cface_detector_new(&error, error.count) else {
            throw FaceError(description: "cannot make dlib's face detector: " + FaceError.message(error))
        }
        let address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(detector)))
        defer { pool.withLock { $0.append(address) } }
        var boxes = [cface_box](repeating: cface_box(), count: 16)
        var found: Int32 = 0
        for _ in 0..<2 {
            found = image.pixels.withUnsafeBufferPointer { p in
                cface_detect(detector, p.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels),
                             Int32(upsample), threshold, &boxes, Int32(boxes.count), &error, error.count)
            }
            guard found > boxes.count else { break }
            boxes = [cface_box](repeating: cface_box(), count: Int(found))
        }
        guard found >= 0 else { throw FaceError(description: FaceError.message(error)) }
        return boxes.prefix(Int(found)).map { FaceBox(left: $0.left, top: $0.top, right: $0.right, bottom: $0.bottom, score: $0.score) }
    }
}

/// A dlib shape predictor: the 68 face landmarks of iBUG 300-W (Debian's libdlib-data installs
/// the model as `defaultModel`). Read once; safe to use from many threads.
public final class FaceLandmarker: @unchecked Sendable {
    /// Where Debian's libdlib-data puts the 68-point model.
    public static let defaultModel = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
    private let predictor: OpaquePointer
    public let points: Int

    public init(model: String = FaceLandmarker.defaultModel) throws(FaceError) {
        var error = [CChar](repeating: 0, count: 512)
        guard FileManager.default.fileExists(atPath: model) else {
            throw FaceError(description: "\(model): no face landmark model (on Debian: apt install libdlib-data)")
        }
        guard let p = cface_predictor_load(model, &error, error.count) else { throw FaceError(description: FaceError.message(error)) }
        predictor = p
        points = Int(cface_predictor_points(p))
    }

    deinit { cface_predictor_free(predictor) }

    /// The landmarks of the face in `box` of `image`, as (x, y) in the image's pixels.
    public func place(_ image: Image, in box: FaceBox) throws(FaceError) -> [FacePoint] {
        var error = [CChar](repeating: 0, count: 256)
        var xy = [Double](repeating: 0, count: 2 * points)
        let c = cface_box(left: box.left, top: box.top, right: box.right, bottom: box.bottom, score: box.score)
        let n = image.pixels.withUnsafeBufferPointer { p in
            cface_predict(predictor, p.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels),
                          c, &xy, Int32(points), &error, error.count)
        }
        guard n >= 0 else { throw FaceError(description: FaceError.message(error)) }
        return (0..<Int(n)).map { FacePoint(x: xy[2 * $0], y: xy[2 * $0 + 1]) }
    }
}

public struct FacePoint: Codable, Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) { (self.x, self.y) = (x, y) }

    /// Points from a flat list x0, y0, x1, y1, … (an odd last number is left out).
    static func pairs(_ flat: [Double]) -> [FacePoint] {
        stride(from: 0, to: flat.count - 1, by: 2).map { FacePoint(x: flat[$0], y: flat[$0 + 1]) }
    }
}
