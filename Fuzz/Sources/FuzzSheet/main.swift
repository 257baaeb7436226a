import CFuzzer
import Foundation
import FacetData

func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) {
    _ = try? Sheet(bytes: Array(UnsafeBufferPointer(start: data, count: count)), path: "fuzz.csv")
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in
    fuzz(data ?? UnsafePointer(bitPattern: 1)!, count)
    return 0
})
