import ArgumentParser
import Foundation
import Training

/// `deq plot`: draws a run's training curves from its log.jsonl as an SVG.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plot", abstract: "Draw a run's curves (log.jsonl) as SVG.")

    @Argument(help: "A run directory or its log.jsonl.") var runPath: String
    @Option(name: .shortAndLong, help: "SVG file to write (default: curves.svg next to the log).") var output: String?
    @Option(help: "Field to plot: loss, ppl or bpc.") var metric = "loss"
    @Option(help: "Average the training curve over this many steps.") var smoothing = 20
    @Option(help: "Chart title.") var title: String?
    @Flag(name: .customLong("log-y"), help: "Logarithmic y axis (perplexities that start in the thousands).") var logY = false

    func validate() throws {
        try requireAtLeast(1, ["smoothing": smoothing])
    }

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runPath, isDirectory: &isDirectory) else {
            throw ValidationError("no run at \(runPath); pass a run directory (--work-dir of deq train) or its log.jsonl")
        }
        let log = isDirectory.boolValue ? URL(fileURLWithPath: runPath).appendingPathComponent("log.jsonl") : URL(fileURLWithPath: runPath)
        let entries: [[String: Any]]
        do { entries = try MetricsLog.read(log) } catch {
            throw ValidationError("cannot read \(log.path): it should be the log.jsonl of a deq train run")
        }
        guard entries.contains(where: { $0[metric] != nil }) else {
            throw ValidationError("\(log.path) has no \"\(metric)\" values; use --metric loss, ppl or bpc")
        }
        var plot = CurvePlot.fromLog(entries, field: metric, smoothing: smoothing, title: title ?? log.deletingLastPathComponent().lastPathComponent)
        plot.logY = logY
        let out = output.map { URL(fileURLWithPath: $0) } ?? log.deletingLastPathComponent().appendingPathComponent("curves.svg")
        try FileSystemError.write(plot.render(), to: out.path, flag: "--output")
        print("wrote \(out.path)")
    }
}
