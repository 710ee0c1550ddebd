import ArgumentParser
import DEQ
import Foundation
import Models
import NN
import Tensors

/// `deq bench deq-transformer`: time and peak memory of one training step of the small
/// DEQ-Transformer preset (forward solve, adaptive-softmax loss, implicit backward, Adam step) on
/// a fixed random batch, with tolerance 0 so every solver iteration runs. The PyTorch peer
/// Benchmarks/peers/torch_deq_transformer.py runs the same model and this command side by side.
struct BenchDEQTransformer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deq-transformer",
        abstract: "Time and peak memory of one training step of the small DEQ-Transformer preset.")

    @Flag(help: "One JSON object per line.") var json = false
    @Option(help: "Sequences per batch.") var batch = 16
    @Option(help: "Tokens per sequence (the memory holds as many).") var length = DEQTransformerLM.smallSegmentLength
    @Option(help: "Vocabulary size.") var vocabulary = 33_278
    @Option(name: .customLong("f-thres"), help: "Forward iterations (all run).") var fThres = DEQOptions.smallTransformer.forwardIterations
    @Option(name: .customLong("b-thres"), help: "Backward iterations (all run).") var bThres = 12
    @Option(help: "Untimed warm-up steps.") var warmup = 2
    @Option(help: "Timed steps (median reported).") var repeats = 7

    func validate() throws {
        try requireAtLeast(1, ["batch": batch, "length": length, "vocabulary": vocabulary, "f-thres": fThres, "b-thres": bThres, "repeats": repeats])
        try requireAtLeast(0, ["warmup": warmup])
    }

    func run() throws {
        RandomGenerator.manualSeed(7)
        var options = DEQOptions.smallTransformer
        options.forwardTolerance = 0
        options.stopMode = .absolute
        options.backward = .implicit(solver: .anderson(window: 5), iterations: bThres, tolerance: 0)
        options.forwardIterations = fThres
        options.onFailure = .ignore
        let config = DEQTransformerLM.Configuration.small(vocabulary: vocabulary)
        let model = DEQTransformerLM(config, options: options)
        let optimizer = try Adam(model, learningRate: 1e-4)
        let tokens = Tensor.randint(0, vocabulary, [batch, length])
        let targets = Tensor.randint(0, vocabulary, [batch, length])
        let memory = DEQTransformerLM.Memory(states: Tensor.randn([batch, config.memoryLength, config.modelSize]),
                                             injections: Tensor.randn([batch, config.memoryLength, 3 * config.modelSize]))

        func step() throws -> (ms: Double, cpu: Double, peak: Int) {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = processCPUSeconds()
            let (_, peak) = try MemoryStats.measurePeak { () throws -> Void in
                optimizer.zeroGrad()
                let (loss, _) = try model.loss(tokens, targets: targets, memory: memory)
                try loss.backward()
                optimizer.step()
            }
            return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6, (processCPUSeconds() - cpuStart) * 1e3, peak)
        }

        let rssBefore = maxResidentBytes()
        for _ in 0..<warmup { _ = try step() }
        var times: [Double] = [], cpuTimes: [Double] = []
        var peak = 0
        for _ in 0..<repeats {
            let (ms, cpu, p) = try step()
            times.append(ms)
            cpuTimes.append(cpu)
            peak = max(peak, p)
        }
        times.sort()
        cpuTimes.sort()
        let row: [String: Any] = [
            "name": "deq_transformer_train_step", "batch": batch, "length": length, "vocabulary": vocabulary,
            "model_size": config.modelSize, "f_thres": fThres, "b_thres": bThres, "threads": Threading.threadCount,
            "ms": times[times.count / 2], "ms_min": times[0], "cpu_ms": cpuTimes[cpuTimes.count / 2], "peak_bytes": peak,
            "maxrss_delta_bytes": maxResidentBytes() - rssBefore,
            "parameters": model.parameterCount(),
            // Function evaluations: the initial residual plus one per iteration (torchdeq's
            // Anderson makes max_iter evaluations in all, one fewer).
            "forward_evaluations": model.deq.lastStats?.forwardEvaluations ?? 0,
            "backward_iterations": model.deq.lastStats?.backwardIterations ?? 0,
        ]
        emit([row], json: json, columns: ["batch", "length", "f_thres", "b_thres", "threads", "ms", "cpu_ms", "peak_bytes", "maxrss_delta_bytes"])
    }
}

/// User plus system CPU time of the whole process (all threads) so far, in seconds: less
/// sensitive than wall time to other processes competing for the cores.
func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The process's peak resident set size so far, in bytes: VmHWM from /proc/self/status on Linux
/// (getrusage's ru_maxrss survives exec, so a child of a large process inherits its parent's
/// peak), else ru_maxrss.
func maxResidentBytes() -> Int {
    #if os(Linux)
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
       let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
       let kb = Int(line.split(separator: " ").dropFirst().first ?? "") {
        return kb * 1024
    }
    #endif
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss * 1024
    #else
    getrusage(RUSAGE_SELF, &usage)
    return usage.ru_maxrss   // bytes on Darwin
    #endif
}
