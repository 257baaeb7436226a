import Foundation

/// A CSV or TSV sheet (RFC 4180 quoting; tab-separated when the header has tabs and no commas),
/// read into rows of named columns.
public struct Sheet: Sendable {
    public var path: String
    public var columns: [String]
    /// (line number, values by column name)
    public var rows: [(line: Int, values: [String: String])]

    public init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else { throw DataError("\(path): not UTF-8 text") }
        let header = text.prefix { $0 != "\n" && $0 != "\r\n" }
        let separator: Character = header.contains("\t") && !header.contains(",") ? "\t" : ","
        let records = try Sheet.parse(text, separator: separator, path: path)
        guard let first = records.first else { throw DataError("\(path): empty sheet (no header line)") }
        columns = first.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        rows = []
        for record in records.dropFirst() where !(record.fields.count == 1 && record.fields[0].isEmpty) {
            guard record.fields.count == columns.count else {
                throw DataError("\(path):\(record.line): \(record.fields.count) fields, the header has \(columns.count)")
            }
            rows.append((record.line, Dictionary(uniqueKeysWithValues: zip(columns, record.fields.map { $0.trimmingCharacters(in: .whitespaces) }))))
        }
    }

    static func parse(_ text: String, separator: Character, path: String) throws -> [(line: Int, fields: [String])] {
        var out: [(Int, [String])] = []
        var fields: [String] = [], field = ""
        var quoted = false, line = 1, start = 1
        var chars = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { field.append("\""); i += 1 } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == separator {
                fields.append(field); field = ""
            } else if c == "\n" {
                fields.append(field); field = ""
                out.append((start, fields)); fields = []
                line += 1; start = line
            } else {
                field.append(c)
            }
            i += 1
        }
        if quoted { throw DataError("\(path):\(start): a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty { fields.append(field); out.append((start, fields)) }
        return out
    }
}
