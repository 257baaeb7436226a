import CFuzzer
import FacetNN
import Foundation

/// A `.pth` file of the fuzzer's bytes (zip, legacy pickle, or anything): loading must end in
/// tensors or a WeightError, never a crash, a hang or an allocation out of proportion.
let path = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-torchfile-\(getpid()).pth").path

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: count)) else { return }
    _ = try? TorchFile.load(path)
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in
    fuzz(data ?? UnsafePointer(bitPattern: 1)!, count)
    return 0
})
