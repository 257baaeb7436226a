import CFuzzer
import Foundation
import FacetData
import FacetImage

/// Ingest's decode path: JPEG or PNG with EXIF, decoded, turned upright, scaled and measured.
func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    _ = Analyzer.analyze(bytes, sha256: "", path: "fuzz", maxPixels: 100_000_000)
    _ = Exif.read(bytes)
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in
    fuzz(data ?? UnsafePointer(bitPattern: 1)!, count)
    return 0
})
