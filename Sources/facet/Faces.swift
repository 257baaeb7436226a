import ArgumentParser
import FacetCore
import FacetData
import FacetImage
import Foundation

extension Facet {
    struct Faces: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "faces",
            abstract: "Find the face in photos (dlib's HOG detector and 68 landmarks), as ingest does: box, score, eyes, issues.",
            discussion: """
            Each photo is decoded as displayed (EXIF orientation applied), reduced to --side, enlarged when small, and searched;
            the best-scoring face is the photo's face. --draw DIR writes each photo with its face box (green), the other boxes
            (red) and the landmarks, to look at.
            """)
        @Argument(help: "Image files.") var files: [String]
        @Option(help: "Shorter side of the image searched.") var side = FaceOptions().side
        @Option(help: "2× enlargements before the search (default: one for photos smaller than --side).") var upsample: Int?
        @Option(help: "Added to dlib's threshold: below 0 finds more faces, and more false ones.") var threshold = FaceOptions().threshold
        @Option(help: "Faces narrower than this many pixels are small_face.") var minSize = FaceOptions().minSize
        @Flag(help: "One JSON object per line.") var json = false
        @Option(help: "Write each photo with its boxes and landmarks drawn into this folder.") var draw: String?

        func run() throws {
            var o = FaceOptions()
            (o.side, o.upsample, o.threshold, o.minSize) = (side, upsample, threshold, minSize)
            if let problem = o.problem { throw ValidationError(problem) }
            if let draw { try FileManager.default.createDirectory(atPath: draw, withIntermediateDirectories: true) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var failed = 0
            for path in files {
                do {
                    let decoded = try ImageDecoder.decode(file: path, options: DecodeOptions(minimumSide: o.side))
                    let (w, h) = (decoded.displayedWidth, decoded.displayedHeight)
                    let f = try FaceFinder.find(decoded.image, width: w, height: h, options: o)
                    let issues = f.issues(width: w, height: h, options: o)
                    if json {
                        print(String(decoding: try encoder.encode(Line(file: path, issues: issues, face: f)), as: UTF8.self))
                    } else {
                        print(Self.line(path, f, issues))
                    }
                    if let draw {
                        let out = draw + "/" + ((path as NSString).lastPathComponent as NSString).deletingPathExtension + ".jpg"
                        try AtomicFile.write(try ImageEncoder.jpeg(Self.drawn(decoded.image, f, scale: Double(decoded.image.width) / Double(w))), to: out)
                    }
                } catch {
                    failed += 1
                    print("\(path): \(error)")
                }
            }
            if failed > 0 { throw ExitCode(1) }
        }

        /// A `--json` line.
        struct Line: Encodable {
            var file: String
            var issues: [String]
            var face: FaceFinding
        }

        static func line(_ path: String, _ f: FaceFinding, _ issues: [String]) -> String {
            guard let b = f.box else { return "\(path): no face (searched at \(f.searchedWidth)×\(f.searchedHeight), \(f.upsample)× enlarged)" }
            var s = String(format: "%@: %d face%@; box %.0f,%.0f–%.0f,%.0f (%.0f px wide), score %.2f", path, f.faces, f.faces == 1 ? "" : "s",
                           b.left, b.top, b.right, b.bottom, b.width, b.score)
            if let e = f.eyes {
                s += String(format: "; eyes %.0f,%.0f and %.0f,%.0f, tilt %.1f°", e.left.x, e.left.y, e.right.x, e.right.y,
                            atan2(e.right.y - e.left.y, e.right.x - e.left.x) * 180 / .pi)
            }
            if !f.others.isEmpty { s += "; other boxes scored " + f.others.map { String(format: "%.2f", $0.score) }.joined(separator: ", ") }
            return s + (issues.isEmpty ? "" : "; " + issues.joined(separator: ", "))
        }

        /// The image with the face box in green, other boxes in red, landmarks in yellow.
        static func drawn(_ image: Image, _ f: FaceFinding, scale: Double) -> Image {
            var out = image
            func put(_ x: Int, _ y: Int, _ c: [UInt8]) {
                guard x >= 0, y >= 0, x < out.width, y < out.height else { return }
                for k in 0..<3 { out.pixels[(y * out.width + x) * 3 + k] = c[k] }
            }
            func rect(_ b: FaceBox, _ c: [UInt8]) {
                let (l, t, r, btm) = (Int(b.left * scale), Int(b.top * scale), Int(b.right * scale), Int(b.bottom * scale))
                for t2 in 0..<2 {
                    for x in l...max(l, r) { put(x, t + t2, c); put(x, btm - t2, c) }
                    for y in t...max(t, btm) { put(l + t2, y, c); put(r - t2, y, c) }
                }
            }
            for o in f.others { rect(o, [255, 0, 0]) }
            if let b = f.box { rect(b, [0, 255, 0]) }
            for p in f.landmarks {
                let (x, y) = (Int(p.x * scale), Int(p.y * scale))
                for dy in -1...1 { for dx in -1...1 { put(x + dx, y + dy, [255, 255, 0]) } }
            }
            return out
        }
    }
}
