import Foundation

/// The learned attention span of every head, layer by layer, as a standalone SVG document: one
/// dot per head above its layer and a bar for the layer's largest span (the trimmed memory), as
/// the adaptive-span paper's figure shows them.
public struct SpanPlot {
    public var title: String
    /// spans[layer][head], in positions.
    public var spans: [[Double]]
    public var maxSpan: Double

    public init(title: String, spans: [[Double]], maxSpan: Double) {
        self.title = title; self.spans = spans; self.maxSpan = maxSpan
    }

    public var svg: String {
        let (w, h, left, right, top, bottom) = (640.0, 400.0, 70.0, 20.0, 40.0, 50.0)
        let plotW = w - left - right, plotH = h - top - bottom
        let n = max(spans.count, 1)
        let slot = plotW / Double(n)
        func x(_ layer: Int) -> Double { left + slot * (Double(layer) + 0.5) }
        func y(_ span: Double) -> Double { top + plotH * (1 - min(max(span / max(maxSpan, 1), 0), 1)) }
        var out = [##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(w))" height="\##(Int(h))" font-family="sans-serif" font-size="12">"##,
                   ##"<rect width="100%" height="100%" fill="white"/>"##,
                   ##"<text x="\##(w / 2)" y="22" text-anchor="middle" font-size="14">\##(escape(title))</text>"##]
        for t in CurvePlot.ticks(0, maxSpan) {
            out.append(##"<line x1="\##(left)" y1="\##(y(t))" x2="\##(w - right)" y2="\##(y(t))" stroke="#e0e0e0"/>"##)
            out.append(##"<text x="\##(left - 6)" y="\##(y(t) + 4)" text-anchor="end">\##(Int(t))</text>"##)
        }
        for (layer, heads) in spans.enumerated() {
            let largest = heads.max() ?? 0
            out.append(##"<rect x="\##(x(layer) - slot * 0.3)" y="\##(y(largest))" width="\##(slot * 0.6)" height="\##(top + plotH - y(largest))" fill="#1f77b4" fill-opacity="0.15"/>"##)
            for (head, span) in heads.enumerated() {
                let dx = heads.count > 1 ? (Double(head) / Double(heads.count - 1) - 0.5) * slot * 0.4 : 0
                out.append(##"<circle cx="\##(x(layer) + dx)" cy="\##(y(span))" r="4" fill="#d62728"><title>layer \##(layer + 1) head \##(head + 1): \##(Int(span.rounded()))</title></circle>"##)
            }
            out.append(##"<text x="\##(x(layer))" y="\##(top + plotH + 18)" text-anchor="middle">\##(layer + 1)</text>"##)
        }
        out.append(##"<line x1="\##(left)" y1="\##(top + plotH)" x2="\##(w - right)" y2="\##(top + plotH)" stroke="black"/>"##)
        out.append(##"<line x1="\##(left)" y1="\##(top)" x2="\##(left)" y2="\##(top + plotH)" stroke="black"/>"##)
        out.append(##"<text x="\##(left + plotW / 2)" y="\##(h - 10)" text-anchor="middle">layer (dots: heads; bar: the largest span, which sets the memory kept)</text>"##)
        out.append(##"<text x="16" y="\##(top + plotH / 2)" text-anchor="middle" transform="rotate(-90 16 \##(top + plotH / 2))">span (positions)</text>"##)
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
