// swift-tools-version:6.0
import Foundation
import PackageDescription

/// `FACET_TARGET_CPU=native` (which scripts/build, used by the demo and the benchmarks, sets unless
/// it is already set) builds facet's Swift code for this machine's processor, so that its image and network loops
/// vectorize with AVX2 or AVX-512 where it has them: the same bytes out, faster (README,
/// "Augment"). Unset or empty, the build runs on any processor of its architecture.
let processor: [SwiftSetting] = ProcessInfo.processInfo.environment["FACET_TARGET_CPU"]
    .flatMap { $0.isEmpty ? nil : [.unsafeFlags(["-target-cpu", $0])] } ?? []

let package = Package(
    name: "facet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "facet", targets: ["facet"]),
        .library(name: "FacetCore", targets: ["FacetCore"]),
        .library(name: "FacetImage", targets: ["FacetImage"]),
        .library(name: "FacetSynth", targets: ["FacetSynth"]),
        .library(name: "FacetData", targets: ["FacetData"]),
        .library(name: "FacetPipeline", targets: ["FacetPipeline"]),
        .library(name: "FacetNN", targets: ["FacetNN"]),
        .library(name: "FacetLearn", targets: ["FacetLearn"]),
        .library(name: "FacetReport", targets: ["FacetReport"]),
        .library(name: "FacetLabel", targets: ["FacetLabel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries, found through pkg-config; the apt providers name the Debian -dev packages.
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CEXIF", pkgConfig: "libexif", providers: [.apt(["libexif-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // The only C with setjmp/longjmp: libjpeg/libpng error recovery. Returns codes and messages.
        .target(name: "CCodecs", dependencies: ["CJPEG", "CPNG"]),
        // The only C++: dlib's face detector and landmark predictor behind a C ABI; dlib's
        // exceptions are caught there (Debian's libdlib-dev; the landmark model is libdlib-data's).
        .target(name: "CFace", cxxSettings: [.unsafeFlags(["-std=c++14", "-O2"])], linkerSettings: [.linkedLibrary("dlib")]),

        // What every module shares: files written atomically, file names, parallel loops, background
        // work, tracing, the seeded generators. Depends on nothing.
        .target(name: "FacetCore", swiftSettings: processor),
        .target(name: "FacetImage", dependencies: ["FacetCore", "CCodecs", "CEXIF"], swiftSettings: processor),
        .target(name: "FacetSynth", dependencies: ["FacetCore", "FacetImage"], swiftSettings: processor),
        .target(name: "FacetData", dependencies: ["FacetCore", "FacetImage", "CFace", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: processor),
        // Numeric kernels are unusable unoptimised: FacetNN is built with -O even in debug builds (tests included).
        .target(name: "FacetNN", dependencies: ["FacetCore", "COpenBLAS", .product(name: "ZIPFoundation", package: "ZIPFoundation")], swiftSettings: [.unsafeFlags(["-O"])] + processor),
        .target(name: "FacetLearn", dependencies: ["FacetCore", "FacetNN", "FacetImage"], swiftSettings: processor),
        .target(name: "FacetReport", dependencies: ["FacetData", "FacetLearn"]),
        // `facet label --serve`: the labelling app, served by Hummingbird on 127.0.0.1.
        .target(name: "FacetLabel", dependencies: ["FacetCore", "FacetData", "FacetImage", .product(name: "Hummingbird", package: "hummingbird"),
                                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log")]),
        .target(name: "FacetPipeline", dependencies: [
            "FacetCore", "FacetData", "FacetImage", "FacetLearn", "FacetNN", "FacetReport", .product(name: "Yams", package: "Yams"),
        ]),
        .executableTarget(
            name: "facet",
            dependencies: [
                "FacetCore", "FacetImage", "FacetSynth", "FacetData", "FacetPipeline", "FacetNN", "FacetLearn", "FacetReport", "FacetLabel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "FacetImageTests", dependencies: ["FacetCore", "FacetImage"]),
        .testTarget(name: "FacetSynthTests", dependencies: ["FacetCore", "FacetSynth", "FacetImage"]),
        .testTarget(name: "FacetDataTests", dependencies: ["FacetCore", "FacetData", "FacetLearn", "FacetSynth", "FacetImage"]),
        .testTarget(name: "FacetPipelineTests", dependencies: ["FacetCore", "FacetPipeline", "FacetLearn", "FacetData", "FacetSynth", "FacetImage", "FacetNN"]),
        .testTarget(name: "FacetNNTests", dependencies: ["FacetCore", "FacetNN", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .testTarget(name: "FacetLearnTests", dependencies: ["FacetCore", "FacetLearn", "FacetNN", "FacetImage"]),
        .testTarget(name: "FacetLabelTests", dependencies: ["FacetCore", "FacetData", "FacetLabel", "FacetSynth"]),
        .testTarget(name: "FacetReportTests", dependencies: ["FacetCore", "FacetReport", "FacetLearn", "FacetData"]),
        .testTarget(name: "facetTests", dependencies: ["FacetCore", "FacetImage", "FacetNN"]),
    ]
)
