import Foundation

/// A failure reading a weight file, naming the file and the problem.
public struct WeightError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length, a JSON header `{name: {dtype, shape, data_offsets}, "__metadata__": {…}}`,
/// then the raw little-endian data. Tensors of every float and integer dtype are read as float32.
public enum Safetensors {
    /// The most header bytes accepted (the format's own reference implementation uses 100 MB).
    static let maxHeader = 100_000_000

    public struct File: Sendable {
        public var tensors: [String: Tensor]
        public var metadata: [String: String]
    }

    public static func read(_ path: String) throws -> File {
        guard let data = FileManager.default.contents(atPath: path) else { throw WeightError("\(path): cannot be read") }
        return try parse([UInt8](data), name: path)
    }

    public static func parse(_ bytes: [UInt8], name: String) throws -> File {
        guard bytes.count >= 8 else { throw WeightError("\(name): not a safetensors file (\(bytes.count) bytes)") }
        let n = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(min(maxHeader, bytes.count - 8)) else {
            throw WeightError("\(name): not a safetensors file (header length \(n) for a file of \(bytes.count) bytes)")
        }
        let start = 8 + Int(n)
        // Decoded into typed entries (not Foundation's object graph, which took 4 KB an entry), so
        // memory follows the entries' own size.
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(bytes[8..<start])) } catch let e as DecodingError {
            throw WeightError("\(name): the safetensors header is not a JSON object of tensors (\(Header.describe(e)))")
        } catch {
            throw WeightError("\(name): the safetensors header is not a JSON object of tensors")
        }
        var file = File(tensors: [:], metadata: header.metadata)
        let dataCount = bytes.count - start
        for (key, info) in header.entries {
            let (dtype, shape, offsets) = (info.dtype, info.shape, info.data_offsets)
            guard offsets.count == 2 else { throw WeightError("\(name): \(key): data_offsets must hold two numbers") }
            guard shape.allSatisfy({ $0 >= 0 }), let count = Self.product(shape), let width = DType(rawValue: dtype)?.width else {
                throw WeightError("\(name): \(key): unsupported dtype \(dtype) or bad shape \(shape)")
            }
            let (b, e) = (offsets[0], offsets[1])
            guard b >= 0, b <= e, e <= dataCount, count.multipliedReportingOverflow(by: width) == (e - b, false) else {
                throw WeightError("\(name): \(key): data_offsets [\(b), \(e)] do not hold \(shape) of \(dtype) within the file's \(dataCount) data bytes")
            }
            file.tensors[key] = Tensor(shape: shape, data: DType(rawValue: dtype)!.floats(bytes, from: start + b, count: count))
        }
        return file
    }

    /// The JSON header: tensors by name, and `__metadata__` (strings by name).
    struct Header: Decodable {
        struct Entry: Decodable { let dtype: String; let shape: [Int]; let data_offsets: [Int] }
        struct Key: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }
        var entries: [(String, Entry)] = []
        var metadata: [String: String] = [:]

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" { metadata = try c.decode([String: String].self, forKey: key) } else {
                    entries.append((key.stringValue, try c.decode(Entry.self, forKey: key)))
                }
            }
        }

        /// "x: needs dtype, shape and data_offsets", "__metadata__.k is not a string", …
        static func describe(_ e: DecodingError) -> String {
            switch e {
            case .keyNotFound(let key, let context):
                let at = context.codingPath.map(\.stringValue).joined(separator: ".")
                return "\(at): needs dtype, shape and data_offsets (no \(key.stringValue))"
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                let at = context.codingPath.map(\.stringValue).joined(separator: ".")
                return at.isEmpty ? "the header is not an object" : "\(at) has the wrong type"
            case .dataCorrupted(let context):
                return "not valid JSON: " + context.debugDescription
            @unknown default:
                return "\(e)"
            }
        }
    }

    /// The element count of `shape`, nil when it overflows.
    static func product(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            let (m, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = m
        }
        return n
    }

    /// Writes float32 tensors (names sorted) and metadata, through a temporary file and a rename.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        var header: [String: Any] = [:]
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
            offset += 4 * t.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count + offset)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64(i)))) }
        out += json
        for name in names {
            tensors[name]!.data.withUnsafeBytes { raw in out += raw }   // little-endian hosts only
        }
        do { try Data(out).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw WeightError("\(path): cannot be written: \(SystemError.reason(error))")
        }
    }

    enum DType: String {
        case F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL

        var width: Int {
            switch self {
            case .F64, .I64: 8
            case .F32, .I32: 4
            case .F16, .BF16, .I16: 2
            case .I8, .U8, .BOOL: 1
            }
        }

        func floats(_ b: [UInt8], from o: Int, count: Int) -> [Float] {
            func u(_ i: Int, _ w: Int) -> UInt64 { (0..<w).reduce(UInt64(0)) { $0 | UInt64(b[o + i * w + $1]) << (8 * UInt64($1)) } }
            switch self {
            case .F32:
                return [Float](unsafeUninitializedCapacity: count) { buf, n in
                    b.withUnsafeBytes { raw in _ = memcpy(buf.baseAddress!, raw.baseAddress! + o, count * 4) }
                    n = count
                }
            case .F64: return (0..<count).map { Float(Double(bitPattern: u($0, 8))) }
            case .F16: return (0..<count).map { Float(Float16(bitPattern: UInt16(u($0, 2)))) }
            case .BF16: return (0..<count).map { Float(bitPattern: UInt32(u($0, 2)) << 16) }
            case .I64: return (0..<count).map { Float(Int64(bitPattern: u($0, 8))) }
            case .I32: return (0..<count).map { Float(Int32(truncatingIfNeeded: u($0, 4))) }
            case .I16: return (0..<count).map { Float(Int16(truncatingIfNeeded: u($0, 2))) }
            case .I8: return (0..<count).map { Float(Int8(truncatingIfNeeded: u($0, 1))) }
            case .U8, .BOOL: return (0..<count).map { Float(b[o + $0]) }
            }
        }
    }
}
