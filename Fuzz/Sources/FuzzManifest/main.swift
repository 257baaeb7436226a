import CFuzzer
import FacetPipeline
import Foundation

/// A pipeline manifest of the fuzzer's bytes, validated as `facet run` validates one (relative
/// paths resolve inside a scratch folder, so nothing outside it is named).
let root = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-manifest-\(getpid())").path

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) {
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: count), as: UTF8.self) else { return }
    _ = try? PipelineManifest.parse(text, file: root + "/Pipelines/fuzz.yaml")
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in
    fuzz(data ?? UnsafePointer(bitPattern: 1)!, count)
    return 0
})
