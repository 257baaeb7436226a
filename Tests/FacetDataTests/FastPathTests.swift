import FacetCore
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

    /// The thumbnail difference summed 16 bytes at a time equals the byte-by-byte mean absolute
    /// difference: random thumbnails of many lengths (a tail, more blocks than a 16-bit lane holds
    /// without emptying), and the extremes.
    @Test func thumbDifferenceIsTheMeanAbsoluteDifference() {
        var g = SystemRandomNumberGenerator()
        func plain(_ a: [UInt8], _ b: [UInt8]) -> Double {
            Double(zip(a, b).map { abs(Int($0) - Int($1)) }.reduce(0, +)) / Double(a.count)
        }
        for length in [1, 15, 16, 17, 768, 769, 4096 + 7, 16 * 300] {
            for _ in 0..<5 {
                let a = (0..<length).map { _ in UInt8.random(in: 0...255, using: &g) }
                let b = (0..<length).map { _ in UInt8.random(in: 0...255, using: &g) }
                #expect(Grouping.thumbDifference(Data(a), Data(b)) == plain(a, b), "\(length) bytes")
            }
            let zeros = [UInt8](repeating: 0, count: length), full = [UInt8](repeating: 255, count: length)
            #expect(Grouping.thumbDifference(Data(zeros), Data(full)) == 255)
            #expect(Grouping.thumbDifference(Data(full), Data(zeros)) == 255)
        }
        #expect(Grouping.thumbDifference(Data([1, 2]), Data([1])) == .infinity)
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

    /// `AtomicFile.write` (durable or not) replaces a file whole, makes missing folders and leaves
    /// no temporary name behind; `FileSystem.create` refuses a file that exists, and both name the
    /// path and the system's reason when they cannot write.
    @Test func filesAreWrittenWholeAndFailuresNameThePath() throws {
        let folder = Support.temp("write")
        defer { Support.remove(folder) }
        let path = folder + "/a/b/file.bin"
        for (bytes, durable) in [([UInt8](repeating: 7, count: 100_000), true), ([1, 2, 3], false), ([], true)] {
            try AtomicFile.write(bytes, to: path, durable: durable)
            #expect(FileSystem.read(path) == bytes)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/a/b") == ["file.bin"])
        try FileSystem.create(folder + "/new/one.jpg", [9, 9])
        #expect(FileSystem.read(folder + "/new/one.jpg") == [9, 9])
        #expect(throws: FileError.self) { try FileSystem.create(folder + "/new/one.jpg", [1]) }
        #expect(FileSystem.read(folder + "/new/one.jpg") == [9, 9])
        // A path under a regular file cannot be written: the error says where and why.
        do {
            try AtomicFile.write([1], to: path + "/under")
            Issue.record("wrote under a file")
        } catch {
            #expect("\(error)".contains(path + "/under") && "\(error)".contains("Not a directory"), "\(error)")
        }
        let names = Set((0..<1000).map { _ in FileSystem.temporaryName(beside: path) })
        #expect(names.count == 1000 && names.allSatisfy { $0.hasPrefix(folder + "/a/b/.file.bin.") && $0.hasSuffix(".tmp") })
    }
}
