import Foundation

// NumPy-style printing: nested brackets, aligned columns, summarised with "..." when large.
extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// Elements beyond which printing shows only the edges of each dimension.
    public static var printThreshold = 1000
    /// Elements shown at each edge of a summarised dimension.
    public static var printEdgeItems = 3

    public var description: String {
        let summarise = count > Tensor.printThreshold
        let values = detached()
        func format(_ v: Double) -> String {
            switch dtype {
            case .bool: return v != 0 ? "true" : "false"
            case .int64: return String(Int64(v))
            default:
                if v.isNaN { return "nan" }
                if v.isInfinite { return v > 0 ? "inf" : "-inf" }
                if v == v.rounded() && Swift.abs(v) < 1e8 { return String(Int64(v)) + "." }
                let m = Swift.abs(v)
                if m >= 1e-4 && m < 1e8 {
                    var s = String(format4(v))
                    while s.hasSuffix("0") { s.removeLast() }
                    return s
                }
                return formatExp(v)
            }
        }
        // Collect the strings first so columns can be aligned to the widest.
        var cells: [String] = []
        func collect(_ t: Tensor) {
            if t.rank == 0 { cells.append(format(t.item)); return }
            for i in indices(t.shape[0], summarise) where i >= 0 { collect(t.select(0, i)) }
        }
        collect(values)
        let width = cells.map(\.count).max() ?? 0
        var next = 0
        func render(_ t: Tensor, _ depth: Int) -> String {
            if t.rank == 0 {
                let s = cells[next]; next += 1
                return String(repeating: " ", count: width - s.count) + s
            }
            let parts = indices(t.shape[0], summarise).map { i in i < 0 ? "..." : render(t.select(0, i), depth + 1) }
            let sep = t.rank == 1 ? ", " : ",\n" + String(repeating: "\n", count: t.rank - 2) + String(repeating: " ", count: depth + 1)
            return "[" + parts.joined(separator: sep) + "]"
        }
        let body = render(values, 0)
        return rank == 0 ? body.trimmingCharacters(in: .whitespaces) : body
    }

    public var debugDescription: String {
        "Tensor(\(description), shape: \(describe(shape)), dtype: \(dtype)\(requiresGrad ? ", requiresGrad" : ""))"
    }

    private func indices(_ n: Int, _ summarise: Bool) -> [Int] {
        let e = Tensor.printEdgeItems
        if !summarise || n <= 2 * e { return Array(0..<n) }
        return Array(0..<e) + [-1] + Array((n - e)..<n)
    }
}

private func format4(_ v: Double) -> String { String(format: "%.4f", v) }

private func formatExp(_ v: Double) -> String { String(format: "%.4e", v) }
