import Foundation

/// Several runs' evaluation curves in one chart, against the step or the wall time: the figure of
/// a same-wall-time comparison (`deq plot RUN RUN ... --x seconds`).
public enum RunComparisonPlot {
    /// One run: its name in the legend, its log entries, and the tokens of one training step
    /// (batch × BPTT from its config.json) to estimate the wall time of logs that predate the
    /// `seconds` field.
    public struct Run {
        public var name: String
        public var entries: [[String: Any]]
        public var tokensPerStep: Double?
        public init(name: String, entries: [[String: Any]], tokensPerStep: Double?) {
            (self.name, self.entries, self.tokensPerStep) = (name, entries, tokensPerStep)
        }
    }

    public enum Axis: String, Sendable { case step, seconds }

    public static func plot(_ runs: [Run], field: String, x axis: Axis, title: String) -> CurvePlot {
        func num(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }
        let series = runs.map { run -> CurvePlot.Series in
            // The wall time at each logged step: the `seconds` field, else tokens seen over the rate.
            var seconds: [Double: Double] = [:]
            for e in run.entries where e["type"] as? String == "train" {
                guard let step = num(e["step"]) else { continue }
                if let s = num(e["seconds"]) { seconds[step] = s }
                else if let rate = num(e["tokens_per_s"]), rate > 0, let tokens = run.tokensPerStep { seconds[step] = step * tokens / rate }
            }
            let points = run.entries.filter { $0["type"] as? String == "eval" }.compactMap { e -> (x: Double, y: Double)? in
                guard let step = num(e["step"]), let y = num(e[field]) else { return nil }
                guard axis == .seconds else { return (step, y) }
                guard let t = num(e["seconds"]) ?? seconds[step] else { return nil }
                return (t, y)
            }
            return CurvePlot.Series(label: "\(run.name) \(field)", points: points)
        }
        return CurvePlot(title: title, xLabel: axis == .seconds ? "seconds" : "step", yLabel: field, series: series)
    }
}
