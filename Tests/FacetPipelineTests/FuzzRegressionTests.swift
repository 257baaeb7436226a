import FacetData
import FacetImage
import FacetNN
import Foundation
import Testing
@testable import FacetPipeline

/// Every input the fuzzers found (`scripts/fuzz`; committed under Tests/Fixtures/fuzz/TARGET) goes
/// through the same reader as in its fuzz target, in every test run: it must end in that reader's
/// own error or a result, never a crash (which would end this test process).
@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz").path

    static func inputs(_ target: String) -> [(name: String, bytes: [UInt8])] {
        let dir = root + "/" + target
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        return names.map { ($0, [UInt8](FileManager.default.contents(atPath: dir + "/" + $0) ?? Data())) }
    }

    @Test func theInputsAreThere() {
        // A regression set that silently went missing would make the tests below vacuous.
        #expect(Self.inputs("FuzzManifest").count >= 1)
    }

    @Test func manifests() throws {
        let scratch = Support.temp("fuzz-manifest")
        for (name, bytes) in Self.inputs("FuzzManifest") {
            guard let text = String(validating: bytes, as: UTF8.self) else { continue }
            do { _ = try PipelineManifest.parse(text, file: scratch + "/Pipelines/fuzz.yaml") } catch {
                #expect(error is ManifestError, "\(name): \(error)")
            }
        }
    }

    @Test func weightFiles() throws {
        let scratch = Support.temp("fuzz-weights")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for (name, bytes) in Self.inputs("FuzzTorchFile") {
            let path = scratch + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do { _ = try TorchFile.load(path) } catch { #expect(error is WeightError, "\(name): \(error)") }
        }
        for (name, bytes) in Self.inputs("FuzzSafetensors") {
            do { _ = try Safetensors.parse(bytes, name: name) } catch { #expect(error is WeightError, "\(name): \(error)") }
        }
    }

    @Test func sheetsAndImages() throws {
        for (name, bytes) in Self.inputs("FuzzSheet") {
            do { _ = try Sheet(bytes: bytes, path: name) } catch { #expect(error is DataError, "\(name): \(error)") }
        }
        for (_, bytes) in Self.inputs("FuzzImage") {
            _ = Analyzer.analyze(bytes, sha256: "", path: "fuzz", maxPixels: 100_000_000)
            _ = Exif.read(bytes)
        }
    }
}
