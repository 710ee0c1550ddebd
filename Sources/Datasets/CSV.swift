import Foundation

/// A numeric CSV table (tabular and synthetic tasks): one row per line, fields separated by
/// commas (or `separator`), numbers only, an optional header line. `.gz` files (or any file
/// starting with the gzip magic bytes) are decompressed first.
///
/// ```swift
/// let table = try CSVTable.read(URL(fileURLWithPath: "digits/digits.csv.gz"))   // 1,797 × 65
/// ```
public struct CSVTable: Sendable, Equatable {
    /// Column names when the file has a header line.
    public var header: [String]?
    /// The values, row by row; every row has ``columnCount`` values.
    public var rows: [[Double]]

    public var columnCount: Int { rows.first?.count ?? header?.count ?? 0 }

    public init(header: [String]? = nil, rows: [[Double]]) {
        self.header = header
        self.rows = rows
    }

    /// Whether the first line is a header: `.auto` takes it as one when a field is not a number.
    public enum Header: Sendable { case auto, present, absent }

    /// Reads a file; every problem (missing, empty, not UTF-8, corrupt gzip, a short row, a
    /// field that is not a number) is one ``DatasetError`` naming the file, line and column.
    public static func read(_ url: URL, header: Header = .auto, separator: Character = ",") throws(DatasetError) -> CSVTable {
        guard let raw = FileManager.default.contents(atPath: url.path) else {
            throw DatasetError("cannot read \(url.path); check the path (for the project's data sets: --data DIR or EQ_DATA)")
        }
        let data = Gzip.isCompressed(raw) || url.pathExtension == "gz" ? try Gzip.decompress(raw, source: url.path) : raw
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError("\(url.path) is not UTF-8 text; save the CSV as UTF-8")
        }
        return try parse(text, source: url.path, header: header, separator: separator)
    }

    /// Parses CSV text; `source` names it in errors.
    public static func parse(_ text: String, source: String, header: Header = .auto, separator: Character = ",") throws(DatasetError) -> CSVTable {
        var lines: [(number: Int, fields: [String])] = []
        // "\r\n" is one Character in Swift, so lines are split on any newline, not on "\n".
        for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            lines.append((i + 1, trimmed.split(separator: separator, omittingEmptySubsequences: false).map {
                var f = $0.trimmingCharacters(in: .whitespaces)
                if f.count >= 2, f.first == "\"", f.last == "\"" { f = String(f.dropFirst().dropLast()) }
                return f
            }))
        }
        guard let first = lines.first else { throw DatasetError("\(source) is empty (no rows); check the file or re-download it") }
        let hasHeader: Bool
        switch header {
        case .present: hasHeader = true
        case .absent: hasHeader = false
        case .auto: hasHeader = first.fields.contains { Double($0) == nil }
        }
        let names = hasHeader ? first.fields : nil
        let body = hasHeader ? lines.dropFirst() : lines[...]
        guard let width = body.first?.fields.count else {
            throw DatasetError("\(source) has a header but no rows of values")
        }
        if let names, names.count != width {
            throw DatasetError("\(source) line \(first.number): the header has \(names.count) columns but the rows have \(width)")
        }
        var rows: [[Double]] = []
        rows.reserveCapacity(body.count)
        for line in body {
            guard line.fields.count == width else {
                throw DatasetError("\(source) line \(line.number) has \(line.fields.count) fields, the rows before it \(width); every row needs the same columns")
            }
            var row: [Double] = []
            row.reserveCapacity(width)
            for (c, field) in line.fields.enumerated() {
                guard let v = Double(field), v.isFinite else {
                    throw DatasetError("\(source) line \(line.number), column \(c + 1): \"\(field)\" is not a finite number; only numeric tables are read")
                }
                row.append(v)
            }
            rows.append(row)
        }
        return CSVTable(header: names, rows: rows)
    }
}
