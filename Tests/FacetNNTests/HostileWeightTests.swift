import Foundation
import Testing
import ZIPFoundation
@testable import FacetNN

/// Weight files crafted to crash, hang or balloon the reader (issue 24, cases 2–3 and the zip
/// bomb): each ends in a WeightError naming the file and the problem, or in the right tensors.
@Suite struct HostileWeightTests {
    /// A pickle written opcode by opcode.
    struct Pickle {
        var b: [UInt8] = [0x80, 0x02]
        mutating func str(_ s: String) { b += [0x8C, UInt8(s.utf8.count)] + Array(s.utf8) }
        mutating func int(_ i: Int) { b += [0x8A, 8] + (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: Int64(i)) >> (8 * UInt64($0))) } }
        mutating func global(_ module: String, _ name: String) { b += [0x63] + Array("\(module)\n\(name)\n".utf8) }
        mutating func tuple(_ ints: [Int]) { b.append(0x28); ints.forEach { int($0) }; b.append(0x74) }
        /// `{name: tensor}` of storage "0" (`elements` floats) viewed at (offset, size, stride).
        static func stateDict(offset: Int, size: [Int], stride: [Int], elements: Int = 4, name: String = "w") -> [UInt8] {
            var p = Pickle()
            p.b.append(0x7D); p.str(name)
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.b.append(0x28)
            p.b.append(0x28); p.str("storage"); p.global("torch", "FloatStorage"); p.str("0"); p.str("cpu"); p.int(elements); p.b.append(0x74)
            p.b.append(0x51)
            p.int(offset); p.tuple(size); p.tuple(stride); p.b.append(0x89)
            p.global("collections", "OrderedDict"); p.b += [0x29, 0x52]
            p.b += [0x74, 0x52, 0x73, 0x2E]
            return p.b
        }
        static func scalar(_ build: (inout Pickle) -> Void) -> [UInt8] { var p = Pickle(); build(&p); p.b.append(0x2E); return p.b }
    }

    /// A legacy `.pth`: magic, protocol, system info, `root`, the storage keys, then each storage.
    static func legacy(_ root: [UInt8], storage: [UInt8]) -> [UInt8] {
        let magic = Pickle.scalar { $0.b += [0x8A, 10] + TorchFile.magic }
        let version = Pickle.scalar { $0.b += [0x4D, 0xE9, 0x03] }
        let info = Pickle.scalar { $0.b.append(0x7D) }
        let keys = Pickle.scalar { $0.b += [0x5D, 0x28]; $0.str("0"); $0.b.append(0x65) }
        return magic + version + info + root + keys + storage
    }

    static func storage(_ floats: [Float]) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: UInt64(floats.count) >> (8 * UInt64($0))) } + floats.flatMap { withUnsafeBytes(of: $0, Array.init) }
    }

    static func file(_ bytes: [UInt8], _ ext: String = "pth") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("facet-hostile-\(UUID()).\(ext)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The error loading `bytes` as a `.pth` file, which must be a WeightError naming the file.
    static func failure(_ bytes: [UInt8]) throws -> String {
        let path = try file(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let tensors = try TorchFile.load(path)
            return "loaded \(tensors.keys.sorted())"
        } catch let e as WeightError {
            #expect(e.description.hasPrefix(path + ": "), "\(e)")
            return String(e.description.dropFirst(path.count + 2))
        }
    }

    @Test func theWellFormedLegacyFileLoads() throws {
        let path = try Self.file(Self.legacy(Pickle.stateDict(offset: 0, size: [2, 2], stride: [2, 1]), storage: Self.storage([1, 2, 3, 4])))
        #expect(try TorchFile.load(path)["w"]?.data == [1, 2, 3, 4])
        let transposed = try Self.file(Self.legacy(Pickle.stateDict(offset: 0, size: [2, 2], stride: [1, 2]), storage: Self.storage([1, 2, 3, 4])))
        #expect(try TorchFile.load(transposed)["w"]?.data == [1, 3, 2, 4])
    }

    @Test func lengthsPastTheEndAreErrorsNotTraps() throws {
        #expect(try Self.failure([0x80, 0x02, 0x8D] + [UInt8](repeating: 0xFF, count: 8)).contains("a length of 18446744073709551615 bytes runs past the end"))
        #expect(try Self.failure([0x80, 0x02, 0x8E] + [UInt8](repeating: 0xFF, count: 8)).contains("a length of 18446744073709551615 bytes runs past the end"))
        #expect(try Self.failure([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0xFF]).contains("runs past the end"))
        let root = Pickle.stateDict(offset: 0, size: [4], stride: [1])
        #expect(try Self.failure(Self.legacy(root, storage: [UInt8](repeating: 0xFF, count: 8)))
                    .contains("storage 0 declares 18446744073709551615 elements, which runs past the end of the file"))
    }

    @Test func viewsThatOverflowOrLeaveTheirStorageAreErrors() throws {
        let storage = Self.storage([1, 2, 3, 4])
        #expect(try Self.failure(Self.legacy(Pickle.stateDict(offset: 0, size: [2, 2], stride: [1 << 62, 1]), storage: storage)).contains("reaches element"))
        #expect(try Self.failure(Self.legacy(Pickle.stateDict(offset: 0, size: [4, 4], stride: [1 << 62, 1 << 62]), storage: storage)).contains("overflows"))
        #expect(try Self.failure(Self.legacy(Pickle.stateDict(offset: Int.max, size: [1], stride: [1]), storage: storage)).contains("overflows"))
        #expect(try Self.failure(Self.legacy(Pickle.stateDict(offset: Int.max - 1, size: [2], stride: [1]), storage: storage)).contains("overflows"))
        #expect(try Self.failure(Self.legacy(Pickle.stateDict(offset: 0, size: [1 << 40, 1 << 40], stride: [1, 1]), storage: storage))
                    .contains("a tensor of size [1099511627776, 1099511627776]"))
        #expect(try Self.failure(Self.legacy(Pickle.stateDict(offset: -1, size: [1], stride: [1]), storage: storage)).contains("at offset -1"))
    }

    @Test func aStateDictThatHoldsItselfOrNestsWithoutEndIsRefused() throws {
        // d = {}; d["state_dict"] = d
        var p = Pickle()
        p.b += [0x7D, 0x71, 0]; p.str("state_dict"); p.b += [0x68, 0, 0x73, 0x2E]
        #expect(try Self.failure(Self.legacy(p.b, storage: [])).contains("a dict changes after it was placed in another value"))
        // 200,000 dicts, each the "state_dict" of the one outside it.
        var q = Pickle()
        for _ in 0..<200_000 { q.b.append(0x7D); q.str("state_dict") }
        q.b.append(0x7D)
        q.b += [UInt8](repeating: 0x73, count: 200_000) + [0x2E]
        #expect(try Self.failure(Self.legacy(q.b, storage: [])).contains("values nested more than 64 deep"))
        // 1,000,000 tuples, each inside the next: the depth is known as each is built.
        var t = Pickle()
        t.b.append(0x29)
        t.b += [UInt8](repeating: 0x85, count: 1_000_000) + [0x2E]
        #expect(try Self.failure(t.b).contains("values nested more than 64 deep"))
    }

    /// A zip-format `.pth` whose storage entry holds `storage`, deflated.
    static func zip(_ pickle: [UInt8], storage: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("facet-hostile-\(UUID()).pth").path
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for (name, bytes) in [("archive/data.pkl", pickle), ("archive/data/0", storage)] {
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) { position, size in
                Data(bytes[Int(position)..<Int(position) + size])
            }
        }
        return path
    }

    /// `path` with the uncompressed size of the entry named `name` set to `size`, in its local header and the central directory.
    static func patchSize(_ path: String, entry name: String, to size: UInt32) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let nameBytes = Array(name.utf8)
        for (signature, sizeAt, nameAt) in [([0x50, 0x4B, 0x03, 0x04] as [UInt8], 22, 30), ([0x50, 0x4B, 0x01, 0x02], 24, 46)] {
            var i = 0
            while i + nameAt + nameBytes.count <= bytes.count {
                if Array(bytes[i..<i + 4]) == signature, Array(bytes[i + nameAt..<i + nameAt + nameBytes.count]) == nameBytes {
                    for k in 0..<4 { bytes[i + sizeAt + k] = UInt8(truncatingIfNeeded: size >> (8 * UInt32(k))) }
                }
                i += 1
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func aZipEntryIsInflatedOnlyAsFarAsItsTensorsAndItsClaimGo() throws {
        // 32 MiB of zeros deflate to 32 KB; the one tensor needs 16 bytes of them, and only those are inflated.
        let bomb = try Self.zip(Pickle.stateDict(offset: 0, size: [4], stride: [1], elements: 8 << 20), storage: [UInt8](repeating: 0, count: 32 << 20))
        defer { try? FileManager.default.removeItem(atPath: bomb) }
        #expect(try TorchFile.load(bomb)["w"]?.data == [0, 0, 0, 0])
        // An entry that inflates past the size it declares is refused as soon as it does.
        let liar = try Self.zip(Pickle.stateDict(offset: 0, size: [4], stride: [1]), storage: [UInt8](repeating: 0, count: 1 << 20))
        defer { try? FileManager.default.removeItem(atPath: liar) }
        try Self.patchSize(liar, entry: "archive/data/0", to: 16)
        #expect(throws: WeightError.self) { try TorchFile.load(liar) }
        do { _ = try TorchFile.load(liar) } catch { #expect("\(error)".contains("archive/data/0 inflates past its declared size of 16 bytes"), "\(error)") }
        // A tensor that needs more than the storage declares is refused before anything is inflated.
        let short = try Self.zip(Pickle.stateDict(offset: 0, size: [64], stride: [1]), storage: [UInt8](repeating: 0, count: 16))
        defer { try? FileManager.default.removeItem(atPath: short) }
        do { _ = try TorchFile.load(short); Issue.record("loaded") } catch { #expect("\(error)".contains("reaches element 63 of storage 0, which holds 4"), "\(error)") }
        // A pickle that claims 4 GiB is refused by its claim.
        let huge = try Self.zip(Pickle.stateDict(offset: 0, size: [4], stride: [1]), storage: [UInt8](repeating: 0, count: 16))
        defer { try? FileManager.default.removeItem(atPath: huge) }
        try Self.patchSize(huge, entry: "archive/data.pkl", to: .max)
        do { _ = try TorchFile.load(huge); Issue.record("loaded") } catch { #expect("\(error)".contains("archive/data.pkl declares 4294967295 bytes, over the limit"), "\(error)") }
    }

    @Test func aZipDirectoryThatPointsPastTheFileIsADamagedArchive() throws {
        // Found by FuzzTorchFile: ZIPFoundation 0.9.20 traps on this ZIP64 end record ("Not enough bits").
        let input = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz/FuzzTorchFile/zip64-directory-past-the-end.pth").path
        #expect(try Self.failure([UInt8](FileManager.default.contents(atPath: input)!)) == "a damaged zip archive (a central directory outside the file)")
        // Found by FuzzTorchFile after the review: an entry whose size, as ZIPFoundation reports it, is over 2^63.
        let size = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz/FuzzTorchFile/entry-size-past-2-63.pth").path
        #expect(try Self.failure([UInt8](FileManager.default.contents(atPath: size)!)) == "strided/data/2 declares 17512247151097498448 bytes")
        // The archives PyTorch writes pass the same checks.
        let good = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/nn/resnet18_w4.pth").path
        #expect(try TorchFile.load(good).count > 100)
    }

    @Test func aFullDiskIsASentenceNamingTheFile() throws {
        let error = CocoaError(.fileWriteOutOfSpace, userInfo: [NSFilePathErrorKey: "/x/best.safetensors"])
        #expect(SystemError.sentence(error) == "/x/best.safetensors: the disk is full (no space left on the device)")
        #expect(SystemError.sentence(NSError(domain: NSPOSIXErrorDomain, code: Int(EACCES))) == "permission denied")
        #expect(SystemError.sentence(WeightError("w.pth: holds no tensors")) == "w.pth: holds no tensors")
    }
}
