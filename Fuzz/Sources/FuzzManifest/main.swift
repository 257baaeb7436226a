import FacetPipeline
import Foundation

/// A pipeline manifest of the fuzzer's bytes, validated as `facet run` validates one (relative
/// paths resolve inside a scratch folder, so nothing outside it is named).
let root = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-manifest-\(getpid())").path

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: count), as: UTF8.self) else { return 0 }
    _ = try? PipelineManifest.parse(text, file: root + "/Pipelines/fuzz.yaml")
    return 0
}
