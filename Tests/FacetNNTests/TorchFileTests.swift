import Foundation
import Testing
@testable import FacetNN

/// `.pth` files written by PyTorch 2.13 (tools/make_model_fixtures.py, tools/make_pth_fixtures.py).
@Suite struct TorchFileTests {
    static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/nn/" + name).path
    }

    @Test(arguments: ["resnet18_w4.pth", "resnet18_w4_legacy.pth"])
    func aTorchvisionStateDictLoadsInBothFormats(_ file: String) throws {
        let loaded = try TorchFile.load(Self.path(file))
        let expected = try Safetensors.read(Self.path("resnet18_w4.safetensors")).tensors.filter { $0.key.hasPrefix("init.") }
        #expect(loaded.count == expected.count && loaded.count == 122)
        for (k, v) in expected {
            let name = String(k.dropFirst(5))
            // num_batches_tracked is an int64 scalar with shape [].
            #expect(loaded[name]?.data == v.data && loaded[name]?.shape == v.shape, "\(name)")
        }
        let model = ResNet18(classes: 3, width: 4)
        #expect(try model.load(loaded).clean)
    }

    @Test(arguments: ["strided.pth", "strided_legacy.pth"])
    func viewsDtypesAndCheckpointsLoad(_ file: String) throws {
        let loaded = try TorchFile.load(Self.path(file))
        let expected = try Safetensors.read(Self.path("strided.safetensors")).tensors
        #expect(Set(loaded.keys) == Set(expected.keys))
        for (k, v) in expected { #expect(loaded[k] == v, "\(k): \(String(describing: loaded[k])) vs \(v)") }
    }

    @Test(arguments: ["malicious.pth", "malicious_legacy.pth"])
    func aPickleThatNamesOsSystemIsRefused(_ file: String) throws {
        try? FileManager.default.removeItem(atPath: "/tmp/facet-exploited")
        #expect { try TorchFile.load(Self.path(file)) } throws: { e in
            "\(e)".contains("refuses the global posix.system") || "\(e)".contains("refuses the global os.system")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/facet-exploited"))
    }

    @Test func brokenFilesAreClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facet-pth-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let good = [UInt8](FileManager.default.contents(atPath: Self.path("resnet18_w4_legacy.pth"))!)
        let cases: [(String, [UInt8], String)] = [
            ("text.pth", Array("hello".utf8), "not a PyTorch weight file"),
            ("truncated.pth", Array(good.prefix(good.count / 2)), "runs past the end"),
            ("cut-pickle.pth", Array(good.prefix(300)), "ends early"),
            ("zip-without-pickle.pth", [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 40), "zip"),
        ]
        for (name, bytes, message) in cases {
            let p = dir + "/" + name
            FileManager.default.createFile(atPath: p, contents: Data(bytes))
            #expect { try TorchFile.load(p) } throws: { "\($0)".contains(message) && "\($0)".contains(name) }
        }
    }
}
