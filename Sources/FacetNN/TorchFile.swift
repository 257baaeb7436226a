import Foundation
import ZIPFoundation

/// PyTorch's `.pth` files, read without PyTorch and without running anything: the zip format of
/// `torch.save` since 1.6 (`ARCHIVE/data.pkl` with each storage in `ARCHIVE/data/KEY`) and the
/// legacy format before it (magic number, protocol, system info, the pickle, the storage keys,
/// then each storage's bytes), through the restricted `Unpickler`.
public enum TorchFile {
    /// The legacy format's magic number, little-endian: 0x1950a86a20f9469cfc6c.
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// Every tensor of the state dict in `path` by name (a checkpoint's `state_dict` entry when
    /// the file wraps one); other values are skipped.
    public static func load(_ path: String) throws -> [String: Tensor] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw WeightError("\(path): cannot be read") }
        defer { try? handle.close() }
        let bytes = [UInt8]((try? handle.read(upToCount: 512)) ?? Data())
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return try zipFormat(path, handle) }
        if bytes.starts(with: [0x80]) {
            guard (try? handle.seek(toOffset: 0)) != nil, let data = try? handle.readToEnd() else { throw WeightError("\(path): cannot be read") }
            return try legacy([UInt8](data), name: path)
        }
        if bytes.count > 262, Array(bytes[257..<262]) == Array("ustar".utf8) {
            throw WeightError("\(path): a tar-format checkpoint from PyTorch before 0.1.10; load and save it again with a newer PyTorch")
        }
        throw WeightError("\(path): not a PyTorch weight file (neither the zip format nor the legacy pickle format)")
    }

    /// Storages by key, read on first use, each only as far as the tensors that view it reach.
    final class Storages {
        var dtypes: [String: String] = [:]
        var loaded: [String: [Float]] = [:]
        /// Legacy views: view key → (root key, offset in elements).
        var views: [String: (String, Int)] = [:]
        /// (key, dtype, elements needed) → at least that many elements.
        let read: (String, String, Int) throws -> [Float]
        init(read: @escaping (String, String, Int) throws -> [Float]) { self.read = read }

        func floats(_ key: String, count: Int) throws -> [Float] {
            if let f = loaded[key] { return f }
            guard let dtype = dtypes[key] else { throw WeightError("storage \(key) is not described") }
            let f = try read(key, dtype, count)
            loaded[key] = f
            return f
        }
    }

    /// The largest pickle accepted (`data.pkl`, or the pickled part of a legacy file): a
    /// checkpoint's is a few kilobytes to a few megabytes.
    static let maxPickle = 256 << 20
    /// The most bytes one storage may hold: over four times VGG16's whole 528 MB.
    static let maxStorage = 1 << 31

    static func unpickler(_ bytes: [UInt8], at pos: Int = 0, name: String, storages: Storages) -> Unpickler {
        Unpickler(bytes, at: pos, name: name, persistent: { pid in
            guard let t = pid.items, t.count >= 5, t[0].string == "storage", case .global(let type) = t[1],
                  let key = t[2].string, let dtype = Unpickler.storageTypes[String(type.dropFirst("torch.".count))] else {
                throw WeightError("\(name): a persistent id that is not a storage")
            }
            storages.dtypes[key] = dtype
            if t.count >= 6, let view = t[5].items, view.count >= 2, let viewKey = view[0].string, let offset = view[1].int {
                storages.views[viewKey] = (key, offset)
                storages.dtypes[viewKey] = dtype
                return .storage(dtype: dtype, key: viewKey)
            }
            return .storage(dtype: dtype, key: key)
        })
    }

    /// How many elements of its storage a view needs (its last element + 1; 0 when empty), with
    /// every product and sum checked for overflow.
    static func extent(offset: Int, size: [Int], stride: [Int], name: String) throws -> Int {
        guard size.count == stride.count, size.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }), offset >= 0,
              let count = Safetensors.product(size) else {
            throw WeightError("\(name): a tensor of size \(size), stride \(stride) at offset \(offset)")
        }
        if count == 0 { return 0 }
        var last = offset
        for (n, st) in zip(size, stride) {
            let (step, o1) = (n - 1).multipliedReportingOverflow(by: st)
            let (sum, o2) = last.addingReportingOverflow(step)
            guard !o1, !o2 else { throw WeightError("\(name): a tensor of size \(size), stride \(stride) at offset \(offset) overflows") }
            last = sum
        }
        guard last < Int.max else { throw WeightError("\(name): a tensor view at offset \(offset) overflows") }
        return last + 1
    }

    /// The elements of a strided view whose `extent` is `end`, bounds-checked against the storage.
    static func view(_ s: [Float], offset: Int, size: [Int], stride: [Int], end: Int, name: String) throws -> Tensor {
        let count = Safetensors.product(size)!
        if count == 0 { return Tensor(shape: size, data: []) }
        let last = end - 1
        guard last < s.count else { throw WeightError("\(name): a tensor view reaches element \(last) of a storage of \(s.count)") }
        var contiguous = true, expected = 1
        for (n, st) in zip(size, stride).reversed() where n > 1 { if st != expected { contiguous = false }; expected *= n }
        if contiguous { return Tensor(shape: size, data: Array(s[offset..<offset + count])) }
        var out = [Float](), index = [Int](repeating: 0, count: size.count)
        out.reserveCapacity(count)
        for _ in 0..<count {
            out.append(s[offset + zip(index, stride).reduce(0) { $0 + $1.0 * $1.1 }])
            var d = size.count - 1
            while d >= 0 { index[d] += 1; if index[d] < size[d] { break }; index[d] = 0; d -= 1 }
        }
        return Tensor(shape: size, data: out)
    }

    /// The zip format; `handle` is the file open, for checking its directory first.
    static func zipFormat(_ path: String, _ handle: FileHandle) throws -> [String: Tensor] {
        guard let size = try? handle.seekToEnd() else { throw WeightError("\(path): cannot be read") }
        if let bounds = ZipBounds.problem(handle, size: size) { throw WeightError("\(path): a damaged zip archive (\(bounds))") }
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw WeightError("\(path): a damaged zip archive (\(error))")
        }
        /// The first `wanted` bytes of `entry` (at most its declared size): inflating stops there,
        /// and an entry that inflates past its claim is refused as soon as it does, so it costs no
        /// more than it claims. The size ZIPFoundation reports can come from a local header or a
        /// data descriptor, which `ZipBounds` does not see: it is checked here.
        func read(_ entry: Entry, wanted: Int) throws -> [UInt8] {
            guard let declared = Int(exactly: entry.uncompressedSize) else {
                throw WeightError("\(path): \(entry.path) declares \(entry.uncompressedSize) bytes")
            }
            let cap = min(wanted, declared), partial = cap < declared
            struct Enough: Error {}
            var out = [UInt8](), overrun = false
            out.reserveCapacity(min(cap, 1 << 26))
            do {
                _ = try archive.extract(entry, skipCRC32: partial) { chunk in
                    if out.count + chunk.count > declared { overrun = true; throw Enough() }
                    out += chunk.prefix(cap - out.count)
                    if partial && out.count >= cap { throw Enough() }
                }
            } catch is Enough {
                if overrun { throw WeightError("\(path): \(entry.path) inflates past its declared size of \(declared) bytes") }
            } catch {
                throw WeightError("\(path): \(entry.path) cannot be read (\(error))")
            }
            return out
        }
        guard let pkl = archive.first(where: { $0.path.hasSuffix("/data.pkl") || $0.path == "data.pkl" }) else {
            throw WeightError("\(path): a zip archive without data.pkl, so not a PyTorch file")
        }
        let prefix = String(pkl.path.dropLast("data.pkl".count))
        let storages = Storages { key, dtype, count in
            guard let entry = archive[prefix + "data/" + key] else { throw WeightError("\(path): storage \(key) is missing from the archive") }
            let type = Safetensors.DType(rawValue: dtype)!
            guard case let (bytes, overflow) = count.multipliedReportingOverflow(by: type.width), !overflow, bytes <= maxStorage else {
                throw WeightError("\(path): a tensor needs \(count) elements of storage \(key), over the limit of \(maxStorage) bytes")
            }
            guard UInt64(bytes) <= entry.uncompressedSize else {
                throw WeightError("\(path): a tensor view reaches element \(count - 1) of storage \(key), which holds \(entry.uncompressedSize / UInt64(type.width))")
            }
            let raw = try read(entry, wanted: bytes)
            guard raw.count == bytes else { throw WeightError("\(path): storage \(key) ends after \(raw.count) of its \(entry.uncompressedSize) bytes") }
            return type.floats(raw, from: 0, count: count)
        }
        guard pkl.uncompressedSize <= UInt64(maxPickle) else {
            throw WeightError("\(path): \(pkl.path) declares \(pkl.uncompressedSize) bytes, over the limit of \(maxPickle)")
        }
        var u = unpickler(try read(pkl, wanted: Int(pkl.uncompressedSize)), name: path, storages: storages)
        return try stateDict(try u.load(), storages: storages, name: path)
    }

    static func legacy(_ bytes: [UInt8], name: String) throws -> [String: Tensor] {
        let storages = Storages { key, _, _ in throw WeightError("\(name): storage \(key) has no data in the file") }
        var u = unpickler(bytes, name: name, storages: storages)
        guard case .bytes(let m) = try u.load(), m == magic else { throw WeightError("\(name): not a PyTorch file (no magic number)") }
        guard case .int(let protocolVersion) = try u.load(), protocolVersion == 1001 else {
            throw WeightError("\(name): an unsupported legacy protocol version")
        }
        _ = try u.load()   // system info: byte order and type sizes (little-endian files only here)
        let root = try u.load()
        guard case .list(let keys) = try u.load() else { throw WeightError("\(name): no list of storage keys") }
        var pos = u.pos
        for k in keys.items {
            guard let key = k.string, let dtype = storages.dtypes[key], let type = Safetensors.DType(rawValue: dtype) else {
                throw WeightError("\(name): storage key \(k.kind) is not described")
            }
            guard pos + 8 <= bytes.count else { throw WeightError("\(name): ends before storage \(key)") }
            let declared = bytes[pos..<pos + 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            pos += 8
            guard declared <= UInt64((bytes.count - pos) / type.width) else {
                throw WeightError("\(name): storage \(key) declares \(declared) elements, which runs past the end of the file")
            }
            let n = Int(declared)
            storages.loaded[key] = type.floats(bytes, from: pos, count: n)
            pos += n * type.width
        }
        return try stateDict(root, storages: storages, name: name)
    }

    /// The tensors of a (possibly wrapped) state dict. Each storage is read once, as far as the
    /// furthest element any tensor viewing it needs.
    static func stateDict(_ v: Unpickler.Value, storages: Storages, name: String) throws -> [String: Tensor] {
        var v = v
        // The unpickler bounds nesting and forbids cycles, so this unwrapping ends.
        while case .dict(let d) = v, let inner = d.pairs.first(where: { $0.0.string == "state_dict" }), case .dict = inner.1 { v = inner.1 }
        guard case .dict(let d) = v else { throw WeightError("\(name): holds no dictionary of tensors") }
        var views: [(key: String, root: String, offset: Int, end: Int, t: Unpickler.TensorRef)] = [], needed: [String: Int] = [:]
        for (k, value) in d.pairs {
            guard let key = k.string, case .tensor(let t) = value else { continue }
            let (root, base) = storages.views[t.storage] ?? (t.storage, 0)
            guard case let (offset, overflow) = base.addingReportingOverflow(t.offset), !overflow else {
                throw WeightError("\(name): \(key): a storage offset of \(base) + \(t.offset) overflows")
            }
            let end = try extent(offset: offset, size: t.size, stride: t.stride, name: "\(name): \(key)")
            needed[root] = max(needed[root] ?? 0, end)
            views.append((key, root, offset, end, t))
        }
        var out: [String: Tensor] = [:]
        for (key, root, offset, end, t) in views {
            out[key] = try view(try storages.floats(root, count: needed[root]!), offset: offset, size: t.size, stride: t.stride, end: end, name: name)
        }
        guard !out.isEmpty else { throw WeightError("\(name): holds no tensors") }
        return out
    }
}
