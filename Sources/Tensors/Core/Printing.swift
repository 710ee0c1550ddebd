import Foundation

// NumPy-style printing: nested brackets, aligned columns, summarised with "..." when large.
extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// Elements beyond which printing shows only the edges of each dimension.
    public static var printThreshold: Int {
        get { PrintOptions.lock.withLock { PrintOptions.threshold } }
        set { PrintOptions.lock.withLock { PrintOptions.threshold = newValue } }
    }
    /// Elements shown at each edge of a summarised dimension.
    public static var printEdgeItems: Int {
        get { PrintOptions.lock.withLock { PrintOptions.edgeItems } }
        set { PrintOptions.lock.withLock { PrintOptions.edgeItems = newValue } }
    }

    public var description: String {
        let summarise = count > Tensor.printThreshold
        let values = detached()
        // Collect the shown values first: the notation and the column width depend on all of them.
        var shown: [Double] = []
        func collect(_ t: Tensor) {
            if t.rank == 0 { shown.append(t.item); return }
            for i in indices(t.shape[0], summarise) where i >= 0 { collect(t.select(0, i)) }
        }
        collect(values)
        // As NumPy, one notation for the whole tensor: scientific when the shown magnitudes reach
        // 1e8, go below 1e-4, or span more than three orders of magnitude.
        let magnitudes = shown.filter { $0.isFinite && $0 != 0 }.map { Swift.abs($0) }
        let scientific = dtype.isFloatingPoint && magnitudes.max().map { hi in
            let lo = magnitudes.min()!
            return hi >= 1e8 || lo < 1e-4 || hi / lo > 1e3
        } ?? false
        func format(_ v: Double) -> String {
            switch dtype {
            case .bool: return v != 0 ? "true" : "false"
            case .int64: return String(Int64(v))
            default:
                if v.isNaN { return "nan" }
                if v.isInfinite { return v > 0 ? "inf" : "-inf" }
                if scientific { return formatExp(v) }
                if v == v.rounded() { return String(Int64(v)) + "." }
                var s = String(format4(v))
                while s.hasSuffix("0") { s.removeLast() }
                return s
            }
        }
        let cells = shown.map(format)
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

/// The process-wide print options (as NumPy's set_printoptions), read and written under one lock.
private enum PrintOptions {
    static let lock = NSLock()
    // nonisolated(unsafe) is safe: both are only touched inside `lock.withLock`.
    nonisolated(unsafe) static var threshold = 1000
    nonisolated(unsafe) static var edgeItems = 3
}
