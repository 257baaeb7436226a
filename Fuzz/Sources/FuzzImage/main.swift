import FacetData
import FacetImage

/// Ingest's decode path: JPEG or PNG with EXIF, decoded, turned upright, scaled and measured.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    _ = Analyzer.analyze(bytes, sha256: "", path: "fuzz", maxPixels: 100_000_000)
    _ = Exif.read(bytes)
    return 0
}
