import ArgumentParser
import Foundation
import Training

/// `deq plot`: draws a run's training curves from its log.jsonl as an SVG, or several runs'
/// evaluation curves in one chart (against the step or the wall time).
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot", abstract: "Draw a run's curves (log.jsonl) as SVG, or compare several runs' evaluation curves.")

    @Argument(help: "A run directory or its log.jsonl; several: their evaluation curves in one chart.") var runPaths: [String]
    @Option(help: "With several runs, the x axis: step or seconds (wall time).") var x = "step"
    @Option(name: .shortAndLong, help: "SVG file to write (default: curves.svg next to the log).") var output: String?
    @Option(help: "Field to plot: loss, ppl or bpc.") var metric = "loss"
    @Option(help: "Average the training curve over this many steps.") var smoothing = 20
    @Option(help: "Chart title.") var title: String?
    @Flag(name: .customLong("log-y"), help: "Logarithmic y axis (perplexities that start in the thousands).") var logY = false

    func validate() throws {
        try requireAtLeast(1, ["smoothing": smoothing])
        guard !runPaths.isEmpty else { throw ValidationError("pass at least one run directory (--work-dir of deq train) or log.jsonl") }
        guard RunComparisonPlot.Axis(rawValue: x) != nil else { throw ValidationError("--x must be step or seconds, got \"\(x)\"") }
    }

    /// The log of a run directory (or the log file itself) and its entries.
    private func read(_ runPath: String) throws -> (log: URL, entries: [[String: Any]]) {
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
        return (log, entries)
    }

    func run() throws {
        if runPaths.count > 1 { return try compare() }
        let (log, entries) = try read(runPaths[0])
        var plot = CurvePlot.fromLog(entries, field: metric, smoothing: smoothing, title: title ?? log.deletingLastPathComponent().lastPathComponent)
        plot.logY = logY
        let out = output.map { URL(fileURLWithPath: $0) } ?? log.deletingLastPathComponent().appendingPathComponent("curves.svg")
        try FileSystemError.write(plot.render(), to: out.path, flag: "--output")
        print("wrote \(out.path)")
    }

    private func compare() throws {
        let runs = try runPaths.map { path -> RunComparisonPlot.Run in
            let (log, entries) = try read(path)
            let directory = log.deletingLastPathComponent()
            let config = (try? String(contentsOf: directory.appendingPathComponent("config.json"), encoding: .utf8))
                .flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] } ?? [:]
            var tokens: Double?
            if let batch = config["batch-size"].flatMap(Double.init), let bptt = config["bptt"].flatMap(Double.init) { tokens = batch * bptt }
            return RunComparisonPlot.Run(name: directory.lastPathComponent, entries: entries, tokensPerStep: tokens)
        }
        var plot = RunComparisonPlot.plot(runs, field: metric, x: RunComparisonPlot.Axis(rawValue: x)!,
                                          title: title ?? runs.map { $0.name }.joined(separator: " vs "))
        plot.logY = logY
        guard let output else { throw ValidationError("with several runs, name the SVG to write with --output") }
        try FileSystemError.write(plot.render(), to: output, flag: "--output")
        print("wrote \(output)")
    }
}
