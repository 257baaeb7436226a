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
        guard let data = FileManager.default.contents(atPath: path) else { throw WeightError("\(path): cannot be read") }
        let bytes = [UInt8](data)
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return try zipFormat(path) }
        if bytes.starts(with: [0x80]) { return try legacy(bytes, name: path) }
        if bytes.count > 262, Array(bytes[257..<262]) == Array("ustar".utf8) {
            throw WeightError("\(path): a tar-format checkpoint from PyTorch before 0.1.10; load and save it again with a newer PyTorch")
        }
        throw WeightError("\(path): not a PyTorch weight file (neither the zip format nor the legacy pickle format)")
    }

    /// Storages by key, read on first use.
    final class Storages {
        var dtypes: [String: String] = [:]
        var loaded: [String: [Float]] = [:]
        /// Legacy views: view key → (root key, offset in elements).
        var views: [String: (String, Int)] = [:]
        let read: (String, String) throws -> [Float]
        init(read: @escaping (String, String) throws -> [Float]) { self.read = read }

        func floats(_ key: String) throws -> [Float] {
            if let f = loaded[key] { return f }
            guard let dtype = dtypes[key] else { throw WeightError("storage \(key) is not described") }
            let f = try read(key, dtype)
            loaded[key] = f
            return f
        }
    }

    static func unpickler(_ bytes: [UInt8], at pos: Int = 0, name: String, storages: Storages) -> Unpickler {
        Unpickler(bytes, at: pos, name: name, persistent: { pid in
            guard case .tuple(let t) = pid, t.count >= 5, t[0].string == "storage", case .global(let type) = t[1],
                  let key = t[2].string, let dtype = Unpickler.storageTypes[String(type.dropFirst("torch.".count))] else {
                throw WeightError("\(name): a persistent id that is not a storage")
            }
            storages.dtypes[key] = dtype
            if t.count >= 6, case .tuple(let view) = t[5], view.count >= 2, let viewKey = view[0].string, let offset = view[1].int {
                storages.views[viewKey] = (key, offset)
                storages.dtypes[viewKey] = dtype
                return .storage(dtype: dtype, key: viewKey)
            }
            return .storage(dtype: dtype, key: key)
        })
    }

    /// The elements of a strided view, bounds-checked against the storage.
    static func view(_ s: [Float], offset: Int, size: [Int], stride: [Int], name: String) throws -> Tensor {
        guard size.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }), offset >= 0, let count = Safetensors.product(size) else {
            throw WeightError("\(name): a tensor of size \(size), stride \(stride)")
        }
        if count == 0 { return Tensor(shape: size, data: []) }
        let last = offset + zip(size, stride).reduce(0) { $0 + ($1.0 - 1) * $1.1 }
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

    static func zipFormat(_ path: String) throws -> [String: Tensor] {
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw WeightError("\(path): a damaged zip archive (\(error))")
        }
        func read(_ entry: Entry) throws -> [UInt8] {
            guard entry.uncompressedSize <= 1 << 34 else { throw WeightError("\(path): \(entry.path) is too large") }
            var out = [UInt8]()
            out.reserveCapacity(Int(entry.uncompressedSize))
            do { _ = try archive.extract(entry, skipCRC32: false) { out += $0 } } catch {
                throw WeightError("\(path): \(entry.path) cannot be read (\(error))")
            }
            return out
        }
        guard let pkl = archive.first(where: { $0.path.hasSuffix("/data.pkl") || $0.path == "data.pkl" }) else {
            throw WeightError("\(path): a zip archive without data.pkl, so not a PyTorch file")
        }
        let prefix = String(pkl.path.dropLast("data.pkl".count))
        let storages = Storages { key, dtype in
            guard let entry = archive[prefix + "data/" + key] else { throw WeightError("\(path): storage \(key) is missing from the archive") }
            let raw = try read(entry)
            let type = Safetensors.DType(rawValue: dtype)!
            guard raw.count % type.width == 0 else { throw WeightError("\(path): storage \(key) has \(raw.count) bytes") }
            return type.floats(raw, from: 0, count: raw.count / type.width)
        }
        var u = unpickler(try read(pkl), name: path, storages: storages)
        return try stateDict(try u.load(), storages: storages, name: path)
    }

    static func legacy(_ bytes: [UInt8], name: String) throws -> [String: Tensor] {
        let storages = Storages { key, _ in throw WeightError("\(name): storage \(key) has no data in the file") }
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
                throw WeightError("\(name): storage key \(k) is not described")
            }
            guard pos + 8 <= bytes.count else { throw WeightError("\(name): ends before storage \(key)") }
            let n = Int(bytes[pos..<pos + 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
            pos += 8
            guard n >= 0, n <= (bytes.count - pos) / type.width else { throw WeightError("\(name): storage \(key) runs past the end of the file") }
            storages.loaded[key] = type.floats(bytes, from: pos, count: n)
            pos += n * type.width
        }
        return try stateDict(root, storages: storages, name: name)
    }

    /// The tensors of a (possibly wrapped) state dict.
    static func stateDict(_ v: Unpickler.Value, storages: Storages, name: String) throws -> [String: Tensor] {
        guard case .dict(let d) = v else { throw WeightError("\(name): holds no dictionary of tensors") }
        if let inner = d.pairs.first(where: { $0.0.string == "state_dict" }), case .dict = inner.1 {
            return try stateDict(inner.1, storages: storages, name: name)
        }
        var out: [String: Tensor] = [:]
        for (k, value) in d.pairs {
            guard let key = k.string, case .tensor(let t) = value else { continue }
            let (root, base) = storages.views[t.storage] ?? (t.storage, 0)
            out[key] = try view(try storages.floats(root), offset: base + t.offset, size: t.size, stride: t.stride, name: name)
        }
        guard !out.isEmpty else { throw WeightError("\(name): holds no tensors") }
        return out
    }
}
