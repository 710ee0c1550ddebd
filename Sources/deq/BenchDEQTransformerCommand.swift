import ArgumentParser
import Benchmarking
import DEQ
import Models
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
        let workload = try TrainingStepWorkloads.deqTransformer(batch: batch, length: length, vocabulary: vocabulary,
                                                                forwardIterations: fThres, backwardIterations: bThres)
        let rssBefore = ProcessStats.maxResidentBytes()
        let t = try StepTimer(warmup: warmup, repeats: repeats, measuresPeak: true).run(workload.step)
        var row: [String: Any] = [
            "name": "deq_transformer_train_step", "batch": batch, "length": length, "vocabulary": vocabulary,
            "f_thres": fThres, "b_thres": bThres, "threads": Threading.threadCount,
            "ms": t.median, "ms_min": t.minimum, "cpu_ms": t.medianCPU, "peak_bytes": t.peakBytes,
            "maxrss_delta_bytes": ProcessStats.maxResidentBytes() - rssBefore,
            "parameters": workload.parameters,
        ]
        row.merge(workload.figures()) { a, _ in a }
        emit([row], json: json, columns: ["batch", "length", "f_thres", "b_thres", "threads", "ms", "cpu_ms", "peak_bytes", "maxrss_delta_bytes"])
    }
}
