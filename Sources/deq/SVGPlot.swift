import Foundation

/// A minimal line chart written as SVG: log-scaled y axis, linear x axis, a legend.
struct SVGLinePlot {
    struct Series { var label: String; var values: [Double] }
    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series] = []

    private static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    /// The SVG document; non-positive or non-finite values are skipped (they have no log).
    func render(width: Double = 760, height: Double = 460) -> String {
        let left = 70.0, right = 190.0, top = 40.0, bottom = 50.0
        let plotW = width - left - right, plotH = height - top - bottom
        let positives = series.flatMap { $0.values }.filter { $0 > 0 && $0.isFinite }
        let lo = floor(log10(positives.min() ?? 1e-12)), hi = ceil(log10(positives.max() ?? 1))
        let span = Swift.max(hi - lo, 1)
        let maxX = Double(Swift.max(series.map { $0.values.count - 1 }.max() ?? 1, 1))
        func px(_ i: Int) -> Double { left + plotW * Double(i) / maxX }
        func py(_ v: Double) -> Double { top + plotH * (hi - log10(v)) / span }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(left + plotW / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">\(escape(title))</text>\n"
        // Decade grid lines and labels.
        var e = lo
        while e <= hi {
            let y = py(pow(10, e))
            s += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + plotW)\" y2=\"\(y)\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">1e\(Int(e))</text>\n"
            e += span > 12 ? 2 : 1
        }
        let tickStep = Swift.max(1, Int((maxX / 8).rounded(.up)))
        for i in stride(from: 0, through: Int(maxX), by: tickStep) {
            s += "<text x=\"\(px(i))\" y=\"\(top + plotH + 18)\" text-anchor=\"middle\">\(i)</text>\n"
        }
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"black\"/>\n"
        s += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(18,\(top + plotH / 2)) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (k, line) in series.enumerated() {
            let color = Self.palette[k % Self.palette.count]
            let points = line.values.enumerated().filter { $0.element > 0 && $0.element.isFinite }
                .map { "\(px($0.offset)),\(py($0.element))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points)\"/>\n"
            let ly = top + 10 + Double(k) * 18
            s += "<line x1=\"\(left + plotW + 12)\" y1=\"\(ly)\" x2=\"\(left + plotW + 36)\" y2=\"\(ly)\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            s += "<text x=\"\(left + plotW + 42)\" y=\"\(ly + 4)\">\(escape(line.label))</text>\n"
        }
        return s + "</svg>\n"
    }

    private func escape(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
