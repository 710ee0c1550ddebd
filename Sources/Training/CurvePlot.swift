import Foundation

/// A line chart of training curves or solver residuals as a standalone SVG document (opens in any
/// browser): a linear x axis with "nice" ticks (1, 2, 5 × 10ⁿ), a linear or logarithmic y axis
/// (decade ticks), tick labels, axis titles, a title and a legend.
public struct CurvePlot {
    public struct Series {
        public var label: String
        public var points: [(x: Double, y: Double)]
        public init(label: String, points: [(x: Double, y: Double)]) { self.label = label; self.points = points }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// A logarithmic y axis (residuals spanning decades); points with y ≤ 0 are left out.
    public var logY: Bool

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.logY = logY
    }

    /// One series per labelled sequence, plotted against its index (0, 1, 2, …).
    public static func indexed(_ values: [(label: String, values: [Double])]) -> [Series] {
        values.map { Series(label: $0.label, points: $0.values.enumerated().map { (Double($0.offset), $0.element) }) }
    }

    private static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]

    /// Tick positions covering [lo, hi] with about `count` steps of 1, 2 or 5 × 10ⁿ.
    public static func ticks(_ lo: Double, _ hi: Double, count: Int = 6) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var out: [Double] = []
        var t = ceil(lo / step) * step
        while t <= hi + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e7 { return String(Int(v)) }
        return String(format: "%g", v)
    }

    public func render(width: Double = 800, height: Double = 480) -> String {
        let left = 72.0, right = 180.0, top = 44.0, bottom = 56.0
        let w = width - left - right, h = height - top - bottom
        // On a log axis the chart works in log10(y); ticks are then whole decades.
        func ty(_ y: Double) -> Double { logY ? log10(y) : y }
        func plotted(_ p: (x: Double, y: Double)) -> Bool { p.x.isFinite && p.y.isFinite && (!logY || p.y > 0) }
        let all = series.flatMap(\.points).filter(plotted)
        var (x0, x1) = (all.map(\.x).min() ?? 0, all.map(\.x).max() ?? 1)
        var (y0, y1) = (all.map { ty($0.y) }.min() ?? 0, all.map { ty($0.y) }.max() ?? 1)
        if x1 <= x0 { x1 = x0 + 1 }
        if logY {
            (y0, y1) = (floor(y0), Swift.max(ceil(y1), floor(y0) + 1))
        } else {
            if y1 <= y0 { y1 = y0 + 1 }
            let pad = (y1 - y0) * 0.05
            y0 -= pad; y1 += pad
        }
        let yTicks = logY ? stride(from: y0, through: y1, by: y1 - y0 > 12 ? 2 : 1).map { $0 } : Self.ticks(y0, y1)
        func yLabelText(_ t: Double) -> String { logY ? "1e\(Int(t))" : Self.label(t) }
        func px(_ x: Double) -> Double { left + w * (x - x0) / (x1 - x0) }
        // Ticks are already on the axis scale (decades when logY); data values go through ty.
        func pyTick(_ t: Double) -> Double { top + h * (y1 - t) / (y1 - y0) }
        func py(_ y: Double) -> Double { pyTick(ty(y)) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(left + w / 2))\" y=\"26\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>\n"
        for t in yTicks {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(pyTick(t)))\" x2=\"\(f(left + w))\" y2=\"\(f(pyTick(t)))\" stroke=\"#e4e4e4\"/>\n"
            s += "<line x1=\"\(f(left - 5))\" y1=\"\(f(pyTick(t)))\" x2=\"\(f(left))\" y2=\"\(f(pyTick(t)))\" stroke=\"black\"/>\n"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(pyTick(t) + 4))\" text-anchor=\"end\">\(yLabelText(t))</text>\n"
        }
        for t in Self.ticks(x0, x1) {
            s += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + h))\" stroke=\"#f0f0f0\"/>\n"
            s += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top + h))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + h + 5))\" stroke=\"black\"/>\n"
            s += "<text x=\"\(f(px(t)))\" y=\"\(f(top + h + 19))\" text-anchor=\"middle\">\(Self.label(t))</text>\n"
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(w))\" height=\"\(f(h))\" fill=\"none\" stroke=\"black\"/>\n"
        s += "<text x=\"\(f(left + w / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(20,\(f(top + h / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (k, line) in series.enumerated() {
            let color = Self.colors[k % Self.colors.count]
            let pts = line.points.filter(plotted)
            if pts.count == 1 || (pts.count < 30 && series.count > 1) {
                for p in pts { s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(color)\"/>\n" }
            }
            if pts.count > 1 {
                let path = pts.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
            }
            let ly = top + 14 + Double(k) * 20
            s += "<line x1=\"\(f(left + w + 14))\" y1=\"\(f(ly))\" x2=\"\(f(left + w + 40))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"2.5\"/>\n"
            s += "<text x=\"\(f(left + w + 46))\" y=\"\(f(ly + 4))\">\(escape(line.label))</text>\n"
        }
        return s + "</svg>\n"
    }

    private func escape(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The curves of a run's `log.jsonl`: the training loss (averaged over `smoothing` steps) and
    /// every evaluation, as `field` (loss, ppl or bpc).
    public static func fromLog(_ entries: [[String: Any]], field: String = "loss", smoothing: Int = 20, title: String) -> CurvePlot {
        func num(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }
        let train = entries.filter { $0["type"] as? String == "train" }.compactMap { e -> (Double, Double)? in
            guard let s = num(e["step"]), let v = num(e[field]) else { return nil }
            return (s, v)
        }
        var smoothed: [(x: Double, y: Double)] = []
        let k = max(1, smoothing)
        var i = 0
        while i < train.count {
            let chunk = train[i..<min(i + k, train.count)]
            smoothed.append((chunk.last!.0, chunk.map(\.1).reduce(0, +) / Double(chunk.count)))
            i += k
        }
        var bySplit: [String: [(x: Double, y: Double)]] = [:]
        for e in entries where e["type"] as? String == "eval" {
            if let s = num(e["step"]), let v = num(e[field]) { bySplit[e["split"] as? String ?? "eval", default: []].append((s, v)) }
        }
        var series = [Series(label: "train \(field)" + (k > 1 ? " (mean of \(k))" : ""), points: smoothed)]
        for (split, pts) in bySplit.sorted(by: { $0.key < $1.key }) { series.append(Series(label: "\(split) \(field)", points: pts)) }
        return CurvePlot(title: title, xLabel: "step", yLabel: field, series: series)
    }
}
