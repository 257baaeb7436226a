import FacetCore
import FacetImage
import Foundation

/// A CSV or TSV sheet (RFC 4180 quoting; tab-separated when the header has tabs and no commas),
/// read into rows of named columns. Lines may end in LF, CRLF or a lone CR. The sheet is parsed
/// as bytes, once, so memory stays near the file's size; sheets over `maxBytes` are refused.
public struct Sheet: Sendable {
    /// The largest sheet read: a label sheet of a million photos is about 50 MB.
    public static let maxBytes = 256 << 20

    public var path: String
    public var columns: [String]
    public var rows: [Row]

    /// One data row: its first line in the file and its fields, by column name.
    public struct Row: Sendable {
        public let line: Int
        public let fields: [String]
        let index: [String: Int]
        public subscript(column: String) -> String? { index[column].map { fields[$0] } }
    }

    /// The column that names photos (a relative path or a bare file name): `file`, or else
    /// `path`, `filename` or `source`.
    public var fileColumn: String? { ["file", "path", "filename", "source"].first { columns.contains($0) } }

    /// A sheet as facet writes one: `header`, then `rows`, each field quoted as RFC 4180 needs
    /// (`CSVField`, as the dataset's CSV manifest), LF line endings.
    public static func csv(_ header: [String], _ rows: [[String]]) -> [UInt8] {
        var out: [UInt8] = []
        for row in [header] + rows {
            for (i, field) in row.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                CSVField.append(field, to: &out)
            }
            out.append(0x0A)
        }
        return out
    }

    /// The header for a message: at most six columns, each cut to 40 characters, and how many
    /// there are (a sheet read with the wrong separator has one column of the whole header).
    public var columnsDescribed: String {
        let shown = columns.prefix(6).map { $0.count > 40 ? "\"" + $0.prefix(40) + "…\"" : "\"\($0)\"" }.joined(separator: ", ")
        return columns.count > 6 ? "\(shown), … (\(columns.count) columns)" : shown
    }

    public init(path: String) throws {
        guard let bytes = FileSystem.read(path, limit: Sheet.maxBytes) else {
            throw DataError(errno == EFBIG ? "\(path): over \(Sheet.maxBytes >> 20) MB; a sheet may hold at most that"
                                           : "\(path): cannot be read (\(String(cString: strerror(errno))))")
        }
        try self.init(bytes: bytes, path: path)
    }

    public init(bytes: [UInt8], path: String) throws {
        self.path = path
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        let headerEnd = body.firstIndex { $0 == 0x0A || $0 == 0x0D } ?? body.endIndex
        let header = body[..<headerEnd]
        let separator: UInt8 = header.contains(0x09) && !header.contains(0x2C) ? 0x09 : 0x2C
        var columns: [String]?, index: [String: Int] = [:], rows: [Row] = []
        // Each record is turned into its row as it is parsed: the sheet is never held twice.
        try Sheet.parse(body, separator: separator, path: path) { line, fields in
            guard let header = columns else {
                columns = fields.map { Sheet.trimmed($0).lowercased() }
                index = Dictionary(columns!.enumerated().map { ($1, $0) }) { a, _ in a }
                return
            }
            if fields.count == 1 && fields[0].isEmpty { return }
            guard fields.count == header.count else {
                throw DataError("\(path):\(line): \(fields.count) fields, the header has \(header.count)")
            }
            rows.append(Row(line: line, fields: fields.map(Sheet.trimmed), index: index))
        }
        guard let columns else { throw DataError("\(path): empty sheet (no header line)") }
        (self.columns, self.rows) = (columns, rows)
    }

    /// `field` without the spaces and tabs around it (most fields have none: returned as they are).
    static func trimmed(_ field: String) -> String {
        let u = field.utf8
        func blank(_ b: UInt8?) -> Bool { b == 0x20 || b == 0x09 }
        guard blank(u.first) || blank(u.last) else { return field }
        var a = u.startIndex, b = u.endIndex
        while a < b, blank(u[a]) { a = u.index(after: a) }
        while b > a, blank(u[u.index(before: b)]) { b = u.index(before: b) }
        return String(field[a..<b])
    }

    /// Hands each record of `bytes` to `each`: the line it starts on and its fields, unquoted.
    static func parse(_ bytes: ArraySlice<UInt8>, separator: UInt8, path: String,
                      each: (_ line: Int, _ fields: [String]) throws -> Void) throws {
        var fields: [String] = [], field: [UInt8] = []
        var quoted = false, line = 1, start = 1
        func finishField() throws {
            guard let s = String(validating: field, as: UTF8.self) else { throw DataError("\(path):\(line): not UTF-8 text") }
            fields.append(s)
            field.removeAll(keepingCapacity: true)
        }
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if quoted {
                if c == 0x22 {
                    if i + 1 < bytes.endIndex && bytes[i + 1] == 0x22 { field.append(0x22); i += 1 } else { quoted = false }
                } else if c == 0x0D && i + 1 < bytes.endIndex && bytes[i + 1] == 0x0A {
                    // CRLF inside a quoted field is kept as LF, as elsewhere
                } else {
                    if c == 0x0A || c == 0x0D { line += 1 }
                    field.append(c)
                }
            } else if c == 0x22 && field.isEmpty {
                quoted = true
            } else if c == separator {
                try finishField()
            } else if c == 0x0A || c == 0x0D {
                if c == 0x0D && i + 1 < bytes.endIndex && bytes[i + 1] == 0x0A { i += 1 }
                try finishField()
                try each(start, fields); fields = []
                line += 1; start = line
            } else {
                field.append(c)
            }
            i += 1
        }
        if quoted { throw DataError("\(path):\(start): a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty { try finishField(); try each(start, fields) }
    }
}
