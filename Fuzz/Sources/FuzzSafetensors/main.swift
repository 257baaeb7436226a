import FacetNN

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? Safetensors.parse(Array(UnsafeBufferPointer(start: data, count: count)), name: "fuzz.safetensors")
    return 0
}
