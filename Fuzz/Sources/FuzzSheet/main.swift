import FacetData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? Sheet(bytes: Array(UnsafeBufferPointer(start: data, count: count)), path: "fuzz.csv")
    return 0
}
