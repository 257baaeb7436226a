import Foundation

/// A restricted unpickler: the opcodes of pickle protocols 2–5 that PyTorch weight files use,
/// and only the globals that build tensors and dictionaries. Any other global — `os.system`,
/// `builtins.eval`, a class of the saving program — is refused before anything is built, so a
/// malicious file can never run code (there is nothing here that could run it).
///
/// Crafted bytes cannot make it crash or balloon either: every length is checked against the
/// bytes left before anything is read or allocated, the stack and the memo are bounded, values
/// nest at most `maxDepth` deep, and a list or dict placed inside another value may not change
/// after that, so no value can hold itself and every nesting depth is known when it is built.
struct Unpickler {
    /// Deeper nesting than any state dict or checkpoint has (a checkpoint is about 6 deep).
    static let maxDepth = 64
    /// Values on the stack, marks, and memo entries: far above the few thousand of a checkpoint.
    static let maxItems = 4_000_000

    final class ListRef { var items: [Value] = []; var depth = 1; var frozen = false }
    final class DictRef { var pairs: [(Value, Value)] = []; var depth = 1; var frozen = false }
    /// A tensor as the pickle describes it: a view of a storage, whose bytes may come later (legacy files).
    final class TensorRef {
        let storage: String, offset: Int, size: [Int], stride: [Int]
        init(storage: String, offset: Int, size: [Int], stride: [Int]) { (self.storage, self.offset, self.size, self.stride) = (storage, offset, size, stride) }
    }

    indirect enum Value {
        case none, bool(Bool), int(Int), float(Double), string(String), bytes([UInt8])
        case tuple([Value], depth: Int), list(ListRef), dict(DictRef)
        case global(String)                        // "module.name", whitelisted
        case storage(dtype: String, key: String)   // a persistent id: the bytes come from elsewhere
        case tensor(TensorRef)

        var string: String? { if case .string(let s) = self { s } else { nil } }
        var items: [Value]? { if case .tuple(let items, _) = self { items } else { nil } }
        var depth: Int {
            switch self {
            case .tuple(_, let d): d
            case .list(let l): l.depth
            case .dict(let d): d.depth
            default: 0
            }
        }
        /// A few words for error messages, never the whole value (which may be huge).
        var kind: String {
            switch self {
            case .none: "None"
            case .bool(let b): "\(b)"
            case .int(let i): "\(i)"
            case .float(let f): "\(f)"
            case .string(let s): s.count <= 40 ? "\"\(s)\"" : "a string of \(s.utf8.count) bytes"
            case .bytes(let b): "\(b.count) bytes"
            case .tuple(let t, _): "a tuple of \(t.count)"
            case .list(let l): "a list of \(l.items.count)"
            case .dict(let d): "a dict of \(d.pairs.count)"
            case .global(let g): g
            case .storage(_, let key): "storage \(key)"
            case .tensor: "a tensor"
            }
        }
        var int: Int? {
            switch self {
            case .int(let i): i
            case .bool(let b): b ? 1 : 0
            default: nil
            }
        }
    }

    /// Globals that PyTorch's own `weights_only` loader allows for state dicts.
    static let allowed = Set([
        "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "builtins.set",
    ]).union(storageTypes.keys.map { "torch." + $0 })

    /// Storage classes and the safetensors dtype of their elements.
    static let storageTypes: [String: String] = [
        "FloatStorage": "F32", "DoubleStorage": "F64", "HalfStorage": "F16", "BFloat16Storage": "BF16", "LongStorage": "I64",
        "IntStorage": "I32", "ShortStorage": "I16", "CharStorage": "I8", "ByteStorage": "U8", "BoolStorage": "BOOL",
    ]

    let bytes: [UInt8]
    var pos: Int
    let name: String
    /// Turns a persistent id (the tuple PyTorch writes for a storage) into a value.
    let persistent: (Value) throws -> Value

    init(_ bytes: [UInt8], at pos: Int = 0, name: String, persistent: @escaping (Value) throws -> Value) {
        (self.bytes, self.pos, self.name, self.persistent) = (bytes, pos, name, persistent)
    }

    func fail(_ what: String) -> WeightError { WeightError("\(name): \(what) (at byte \(pos))") }

    mutating func byte() throws -> UInt8 {
        guard pos < bytes.count else { throw fail("the pickle ends early") }
        defer { pos += 1 }
        return bytes[pos]
    }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - pos else { throw fail("the pickle ends early (needs \(n) bytes)") }
        defer { pos += n }
        return bytes[pos..<pos + n]
    }

    /// A length read from the pickle, refused unless that many bytes are left.
    func length(_ n: UInt64) throws -> Int {
        guard n <= UInt64(bytes.count - pos) else { throw fail("a length of \(n) bytes runs past the end of the pickle") }
        return Int(n)
    }

    mutating func uint(_ n: Int) throws -> UInt64 {
        try take(n).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    mutating func line() throws -> String {
        guard let end = bytes[pos...].firstIndex(of: 0x0A) else { throw fail("the pickle ends early") }
        defer { pos = end + 1 }
        return String(decoding: bytes[pos..<end], as: UTF8.self)
    }

    /// Runs the pickle at `pos` to its STOP and returns the value; `pos` is left after it.
    mutating func load() throws -> Value {
        var stack: [Value] = [], marks: [Int] = [], memo: [Int: Value] = [:]
        func pop() throws -> Value { guard let v = stack.popLast() else { throw fail("pop from an empty stack") }; return v }
        func popMark() throws -> [Value] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("no mark") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }
        func top() throws -> Value { guard let v = stack.last else { throw fail("empty stack") }; return v }
        /// `v` is being placed inside another value: from now on it may not change.
        func freeze(_ v: Value) {
            switch v {
            case .list(let l): l.frozen = true
            case .dict(let d): d.frozen = true
            default: break
            }
        }
        func depth(of items: [Value]) throws -> Int {
            let d = 1 + (items.lazy.map(\.depth).max() ?? 0)
            guard d <= Unpickler.maxDepth else { throw fail("values nested more than \(Unpickler.maxDepth) deep") }
            return d
        }
        func tuple(_ items: [Value]) throws -> Value {
            items.forEach(freeze)
            return .tuple(items, depth: try depth(of: items))
        }
        func add(_ items: [Value], to l: ListRef) throws {
            items.forEach(freeze)
            guard !l.frozen else { throw fail("a list changes after it was placed in another value (torch.save never does this)") }
            l.depth = max(l.depth, try depth(of: items))
            l.items += items
        }
        func add(pairs items: [Value], to d: DictRef) throws {
            guard items.count % 2 == 0 else { throw fail("a dict given an odd number of keys and values") }
            items.forEach(freeze)
            guard !d.frozen else { throw fail("a dict changes after it was placed in another value (torch.save never does this)") }
            d.depth = max(d.depth, try depth(of: items))
            for i in stride(from: 0, to: items.count, by: 2) { d.pairs.append((items[i], items[i + 1])) }
        }
        func memoize(_ k: Int) throws {
            guard memo[k] != nil || memo.count < Unpickler.maxItems else { throw fail("more than \(Unpickler.maxItems) memo entries") }
            memo[k] = try top()
        }
        func global(_ module: String, _ name: String) throws -> Value {
            let full = module + "." + name
            guard Unpickler.allowed.contains(full) else {
                throw fail("refuses the global \(full): weight files need only tensors and dictionaries, and loading never runs code")
            }
            return .global(full)
        }
        var steps = 0
        while true {
            steps += 1
            if steps > 50_000_000 { throw fail("too many pickle operations") }
            if stack.count > Unpickler.maxItems || marks.count > Unpickler.maxItems {
                throw fail("more than \(Unpickler.maxItems) values on the pickle's stack")
            }
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()                                            // PROTO
            case 0x95: _ = try take(8)                                           // FRAME
            case 0x2E: return try pop()                                          // STOP
            case 0x28: marks.append(stack.count)                                 // MARK
            case 0x4E: stack.append(.none)                                       // NONE
            case 0x88: stack.append(.bool(true))                                 // NEWTRUE
            case 0x89: stack.append(.bool(false))                                // NEWFALSE
            case 0x4B: stack.append(.int(Int(try byte())))                       // BININT1
            case 0x4D: stack.append(.int(Int(try uint(2))))                      // BININT2
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x8A, 0x8B:                                                     // LONG1, LONG4
                let n = try length(op == 0x8A ? UInt64(try byte()) : try uint(4))
                let digits = try take(n)
                guard n <= 8 else { stack.append(.bytes(Array(digits))); continue }  // only the legacy magic number is this long
                var v: Int64 = 0
                for (i, b) in digits.enumerated() { v |= Int64(b) << (8 * Int64(i)) }
                if n > 0 && n < 8 && digits.last! & 0x80 != 0 { v -= Int64(1) << (8 * Int64(n)) }
                stack.append(.int(Int(v)))
            case 0x47: stack.append(.float(Double(bitPattern: (try take(8)).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))  // BINFLOAT (big-endian)
            case 0x58: let n = try length(try uint(4)); stack.append(.string(String(decoding: try take(n), as: UTF8.self)))   // BINUNICODE
            case 0x8C: let n = Int(try byte()); stack.append(.string(String(decoding: try take(n), as: UTF8.self)))     // SHORT_BINUNICODE
            case 0x8D: let n = try length(try uint(8)); stack.append(.string(String(decoding: try take(n), as: UTF8.self)))   // BINUNICODE8
            case 0x54: let n = try length(try uint(4)); stack.append(.string(String(decoding: try take(n), as: UTF8.self)))   // BINSTRING
            case 0x55: let n = Int(try byte()); stack.append(.string(String(decoding: try take(n), as: UTF8.self)))     // SHORT_BINSTRING
            case 0x42: let n = try length(try uint(4)); stack.append(.bytes(Array(try take(n))))                               // BINBYTES
            case 0x43: let n = Int(try byte()); stack.append(.bytes(Array(try take(n))))                                // SHORT_BINBYTES
            case 0x8E: let n = try length(try uint(8)); stack.append(.bytes(Array(try take(n))))                               // BINBYTES8
            case 0x7D: stack.append(.dict(DictRef()))                            // EMPTY_DICT
            case 0x5D: stack.append(.list(ListRef()))                            // EMPTY_LIST
            case 0x29: stack.append(.tuple([], depth: 1))                        // EMPTY_TUPLE
            case 0x8F: stack.append(.list(ListRef()))                            // EMPTY_SET (as a list)
            case 0x74: stack.append(try tuple(try popMark()))                    // TUPLE
            case 0x85: stack.append(try tuple([try pop()]))                      // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(try tuple([a, b]))                  // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(try tuple([a, b, c]))  // TUPLE3
            case 0x6C: let l = ListRef(); try add(try popMark(), to: l); stack.append(.list(l))           // LIST
            case 0x64: let d = DictRef(); try add(pairs: try popMark(), to: d); stack.append(.dict(d))    // DICT
            case 0x61:                                                                                     // APPEND
                let v = try pop()
                guard case .list(let l) = try top() else { throw fail("APPEND to a non-list") }
                try add([v], to: l)
            case 0x65, 0x90:                                                                               // APPENDS, ADDITEMS
                let items = try popMark()
                guard case .list(let l) = try top() else { throw fail("APPENDS to a non-list") }
                try add(items, to: l)
            case 0x73:                                                                                     // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let d) = try top() else { throw fail("SETITEM on a non-dict") }
                try add(pairs: [k, v], to: d)
            case 0x75:                                                                                     // SETITEMS
                let items = try popMark()
                guard case .dict(let d) = try top() else { throw fail("SETITEMS on a non-dict") }
                try add(pairs: items, to: d)
            case 0x71: try memoize(Int(try byte()))                              // BINPUT
            case 0x72: try memoize(Int(try uint(4)))                             // LONG_BINPUT
            case 0x94: try memoize(memo.count)                                   // MEMOIZE
            case 0x68, 0x6A:                                                     // BINGET, LONG_BINGET
                let k = op == 0x68 ? Int(try byte()) : Int(try uint(4))
                guard let v = memo[k] else { throw fail("memo \(k) is empty") }
                stack.append(v)
            case 0x63:                                                           // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                stack.append(try global(module, name))
            case 0x93:                                                           // STACK_GLOBAL
                guard let name = try pop().string, let module = try pop().string else { throw fail("STACK_GLOBAL needs two strings") }
                stack.append(try global(module, name))
            case 0x51: stack.append(try persistent(try pop()))                   // BINPERSID
            case 0x52, 0x81:                                                     // REDUCE, NEWOBJ
                let args = try pop(), f = try pop()
                guard case .global(let fn) = f, case .tuple(let a, _) = args else { throw fail("REDUCE of something not allowed") }
                stack.append(try call(fn, a))
            case 0x62:                                                           // BUILD: set state (an OrderedDict's _metadata): ignored
                _ = try pop()
            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02x", op))
            }
        }
    }

    func call(_ fn: String, _ a: [Value]) throws -> Value {
        switch fn {
        case "collections.OrderedDict", "builtins.set":
            return a.isEmpty ? (fn == "builtins.set" ? .list(ListRef()) : .dict(DictRef())) : a[0]
        case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2":
            guard a.count >= 4, let offset = a[1].int, let size = a[2].items, let stride = a[3].items else {
                throw fail("\(fn) with arguments it does not take")
            }
            let s = size.compactMap(\.int), st = stride.compactMap(\.int)
            guard s.count == size.count, st.count == stride.count, s.count == st.count else { throw fail("\(fn): bad size or stride") }
            guard case .storage(_, let key) = a[0] else { throw fail("\(fn) without a storage") }
            return .tensor(TensorRef(storage: key, offset: offset, size: s, stride: st))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let first = a.first else { throw fail("\(fn) without data") }
            return first
        default:
            throw fail("\(fn) cannot be called")
        }
    }
}
