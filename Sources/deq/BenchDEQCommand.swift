import ArgumentParser
import Benchmarking
import Foundation

/// `deq bench deq-memory` and `deq bench deq-step`: peak memory and time of one training step of
/// a width-256 DEQ, z = tanh(z W + x U + b), batch 32.
struct BenchDEQMemory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deq-memory",
        abstract: "Peak memory of one DEQ training step (forward + backward) against forward iterations.")

    @Flag(help: "One JSON object per line.") var json = false
    @Option(help: "Forward iteration counts to measure.") var iterations: [Int] = [10, 30, 100]
    @Option(help: "State width.") var width = 256
    @Option(help: "Batch size.") var batch = 32

    func validate() throws {
        try requireAtLeast(1, ["width": width, "batch": batch])
        try requireAtLeast(1, ["iterations": iterations.min() ?? 1])
    }

    func run() throws {
        let bench = DEQBenchModel(width: width, batch: batch)
        var rows: [[String: Any]] = []
        for mode in ["implicit", "unrolled"] {
            for n in iterations {
                let (peak, ms) = try bench.trainStep(unrolled: mode == "unrolled", iterations: n)
                rows.append(["name": "deq_memory_\(mode)_\(n)", "mode": mode, "f_thres": n, "peak_bytes": peak, "ms": ms])
            }
        }
        emit(rows, json: json, columns: ["mode", "f_thres", "peak_bytes", "ms"])
    }
}

struct BenchDEQStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deq-step",
        abstract: "Time of one training step of a width-256 DEQ (Anderson forward, implicit backward).")

    @Flag(help: "One JSON object per line.") var json = false
    @Option(name: .customLong("f-thres"), help: "Forward iterations.") var fThres = 30
    @Option(name: .customLong("b-thres"), help: "Backward iterations.") var bThres = 30
    @Option(help: "Timed repeats (median reported).") var repeats = 10

    func validate() throws {
        try requireAtLeast(1, ["f-thres": fThres, "b-thres": bThres, "repeats": repeats])
    }

    func run() throws {
        let bench = DEQBenchModel(width: 256, batch: 32)
        _ = try bench.trainStep(unrolled: false, iterations: fThres, backwardIterations: bThres)
        var times: [Double] = []
        var peak = 0
        for _ in 0..<repeats {
            let (p, ms) = try bench.trainStep(unrolled: false, iterations: fThres, backwardIterations: bThres)
            times.append(ms)
            peak = max(peak, p)
        }
        times.sort()
        let row: [String: Any] = ["name": "deq_train_step_w256_b32", "f_thres": fThres, "b_thres": bThres,
                                  "ms": times[times.count / 2], "peak_bytes": peak]
        emit([row], json: json, columns: ["f_thres", "b_thres", "ms", "peak_bytes"])
    }
}

/// Prints rows as JSON lines or as an aligned table.
func emit(_ rows: [[String: Any]], json: Bool, columns: [String]) {
    if json {
        for row in rows {
            let data = try! JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
        return
    }
    let header = ["name"] + columns
    let cells = rows.map { row in header.map { key -> String in
        switch row[key] {
        case let d as Double: return String(format: "%.3f", d)
        case let v?: return "\(v)"
        case nil: return ""
        }
    } }
    let widths = header.indices.map { i in max(header[i].count, cells.map { $0[i].count }.max() ?? 0) }
    func line(_ values: [String]) -> String {
        zip(values, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
    }
    print(line(header))
    for c in cells { print(line(c)) }
}
