import ArgumentParser
import Benchmarking
import Tensors

/// `deq bench rmc-lm`: time of one training step of the reference RMC language model (the
/// `paper` preset: emsize 192, 4 heads of 192, keys of 64, 1 slot, 3 attention-MLP layers, unit
/// gates, dropout 0.5, tied full softmax) — forward over a BPTT window, cross entropy, backward,
/// gradient clipping at 0.1 and an Adam step — on a fixed random batch. The PyTorch peer
/// Benchmarks/peers/torch_rmc_lm.py runs the reference's own model and this command side by side.
struct BenchRMC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmc-lm",
        abstract: "Time one training step of the reference RMC language model (full softmax).")

    @Flag(help: "One JSON object per line.") var json = false
    @Option(help: "Sequences per batch.") var batch = 64
    @Option(help: "Tokens per sequence (BPTT window).") var bptt = 100
    @Option(help: "Vocabulary size (WikiText-2's is 33278).") var vocabulary = 33_278
    @Option(name: .customLong("memslots"), help: "Memory slots.") var memorySlots = 1
    @Option(help: "Untimed warm-up steps.") var warmup = 1
    @Option(help: "Timed steps (median reported).") var repeats = 3

    func validate() throws {
        try requireAtLeast(1, ["batch": batch, "bptt": bptt, "vocabulary": vocabulary, "memslots": memorySlots, "repeats": repeats])
        try requireAtLeast(0, ["warmup": warmup])
    }

    func run() throws {
        let workload = try TrainingStepWorkloads.rmcLanguageModel(batch: batch, bptt: bptt, vocabulary: vocabulary, memorySlots: memorySlots)
        let t = try StepTimer(warmup: warmup, repeats: repeats).run(workload.step)
        let row: [String: Any] = [
            "name": "rmc_lm_train_step", "batch": batch, "bptt": bptt, "vocabulary": vocabulary, "memslots": memorySlots,
            "threads": Threading.threadCount, "ms": t.median, "ms_min": t.minimum, "cpu_ms": t.medianCPU, "parameters": workload.parameters,
        ]
        emit([row], json: json, columns: ["batch", "bptt", "vocabulary", "memslots", "threads", "ms", "ms_min", "cpu_ms", "parameters"])
    }
}
