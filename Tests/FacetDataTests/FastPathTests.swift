import FacetImage
import Foundation
import Testing
@testable import FacetData

/// The byte-level fast paths that a run over thousands of records takes agree with Foundation's
/// slower ways of doing the same.
@Suite struct FastPathTests {
    struct Blob: JSONReadable {
        var data: Data
        init(_ r: inout JSONReader) throws { data = try r.data() }
    }

    static func blob(_ json: String) throws -> Data {
        try Array(json.utf8).withUnsafeBufferPointer { try JSONReader.read(Blob.self, $0).data }
    }

    /// Base64 of every padding (0, 1 and 2 `=`) and length up to 40 bytes, read from JSON as
    /// `Data(base64Encoded:)` reads it; escaped slashes and text that is not base64 too.
    @Test func base64ReadsAsFoundationReadsIt() throws {
        var g = SystemRandomNumberGenerator()
        for length in 0...40 {
            let data = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &g) })
            let text = data.base64EncodedString()
            for json in ["\"\(text)\"", "\"\(text.replacingOccurrences(of: "/", with: "\\/"))\""] {
                #expect(try Self.blob(json) == data, "\(length) bytes: \(json)")
            }
        }
        // Text the fast path refuses goes to Foundation, error or not.
        for odd in ["abc", "ab=c", "a*cd", "====", "ab==cd==", "YQ"] {
            #expect((try? Self.blob("\"\(odd)\"")) == Data(base64Encoded: odd), "\(odd)")
        }
    }

    @Test func perceptualHashHexIsPrintfsHex() {
        var g = SystemRandomNumberGenerator()
        for h in [0, 1, UInt64.max, 0x0123_4567_89AB_CDEF] + (0..<200).map({ _ in UInt64.random(in: 0...UInt64.max, using: &g) }) {
            #expect(PerceptualHash.hex(h) == String(format: "%016llx", h))
        }
    }

    /// Fields with commas, quotes or line breaks are quoted (quotes doubled); others are not.
    @Test func csvQuotesWhatNeedsQuoting() {
        var out: [UInt8] = []
        for field in ["plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", "é/中"] {
            CSVField.append(field, to: &out)
            out.append(UInt8(ascii: "|"))
        }
        #expect(String(decoding: out, as: UTF8.self) == "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\"cr\rhere\"|é/中|")
    }

    @Test func fileSystemReadReadsWholeFilesAndRefusesWhatItShould() throws {
        let folder = Support.temp("fs")
        defer { Support.remove(folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var g = SystemRandomNumberGenerator()
        for size in [0, 1, 4095, 4096, 4097, 200_000] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &g) }
            let path = folder + "/f\(size)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(FileSystem.read(path) == bytes, "\(size) bytes")
            #expect(FileSystem.read(path, limit: size) == bytes)
            if size > 0 { #expect(FileSystem.read(path, limit: size - 1) == nil) }
        }
        #expect(FileSystem.read(folder + "/missing") == nil)
        #expect(FileSystem.read(folder) == nil)   // a folder
        #expect(FileSystem.exists(folder + "/f1") && FileSystem.exists(folder) && !FileSystem.exists(folder + "/missing"))
    }
}
