// swift-tools-version:6.0
import PackageDescription

/// libFuzzer targets over facet's readers of outside bytes, built by `scripts/fuzz` with
/// `-sanitize=fuzzer` (and AddressSanitizer for the C codecs); not part of the main build or CI.
let targets = ["FuzzTorchFile", "FuzzSafetensors", "FuzzManifest", "FuzzSheet", "FuzzImage"]

let package = Package(
    name: "facet-fuzz",
    platforms: [.macOS(.v15)],
    products: targets.map { .executable(name: $0, targets: [$0]) },
    dependencies: [.package(name: "facet", path: "..")],
    targets: [
        .target(name: "CFuzzer"),
        .executableTarget(name: "FuzzTorchFile", dependencies: ["CFuzzer", .product(name: "FacetNN", package: "facet")]),
        .executableTarget(name: "FuzzSafetensors", dependencies: ["CFuzzer", .product(name: "FacetNN", package: "facet")]),
        .executableTarget(name: "FuzzManifest", dependencies: ["CFuzzer", .product(name: "FacetPipeline", package: "facet")]),
        .executableTarget(name: "FuzzSheet", dependencies: ["CFuzzer", .product(name: "FacetData", package: "facet")]),
        .executableTarget(name: "FuzzImage", dependencies: ["CFuzzer", .product(name: "FacetData", package: "facet"),
                                                            .product(name: "FacetImage", package: "facet")]),
    ]
)
