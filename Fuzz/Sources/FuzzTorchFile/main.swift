import FacetNN
import Foundation

/// A `.pth` file of the fuzzer's bytes (zip, legacy pickle, or anything): loading must end in
/// tensors or a WeightError, never a crash, a hang or an allocation out of proportion.
let path = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-torchfile-\(getpid()).pth").path

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: count)) else { return 0 }
    _ = try? TorchFile.load(path)
    return 0
}
