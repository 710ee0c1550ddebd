import Foundation

/// Reports training progress: a bar redrawn in place with tokens/s and ETA when stderr is a
/// terminal, and a plain line every `interval` steps otherwise (logs, CI).
public struct ProgressReporter {
    public let total: Int
    public let interval: Int
    public let isTerminal: Bool
    /// What the rate counts ("tok/s" for language models, "steps/s" for other tasks).
    public var rateUnit = "tok/s"
    private var lastDraw = 0.0

    public init(total: Int, interval: Int, isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.total = total
        self.interval = interval
        self.isTerminal = isTerminal
    }

    /// "1m05s" style durations.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }

    /// Called after every step with the running figures.
    public mutating func update(step: Int, loss: Double, metric: String, tokensPerSecond: Double, eta: Double, lr: Double) {
        let text = String(format: "step %d/%d  loss %.4f  %@lr %.3g  %@ %@  ETA %@", step, total, loss,
                          metric.isEmpty ? "" : metric + "  ", lr, rate(tokensPerSecond), rateUnit, Self.duration(eta))
        if isTerminal {
            let now = Date().timeIntervalSince1970
            guard now - lastDraw > 0.2 || step == total else { return }
            lastDraw = now
            let width = 24
            let filled = total > 0 ? min(width, width * step / total) : 0
            let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
            FileHandle.standardError.write(Data("\r[\(bar)] \(text)\u{1B}[K".utf8))
        } else if step % interval == 0 || step == total {
            print(text)
            fflush(nil)   // nil: every output stream (Swift 6 cannot name the C global stdout)
        }
    }

    private func rate(_ r: Double) -> String { String(format: r >= 100 ? "%.0f" : "%.2f", r) }

    /// Ends the bar's line before other output.
    public func clearLine() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
