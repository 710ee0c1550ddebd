import ArgumentParser
import Foundation
import Models
import NN
import Tensors
import Training

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

    func run() throws {
        RandomGenerator.manualSeed(7)
        var c = RMCLanguageModel.Configuration(vocabularySize: vocabulary)
        c.memorySlots = memorySlots
        let model = RMCLanguageModel(c)
        let optimizer = try Adam(model, learningRate: 1e-3)
        let tokens = Tensor.randint(0, vocabulary, [bptt, batch])
        let targets = Tensor.randint(0, vocabulary, [bptt * batch])
        var memory = model.initialState(batch: batch)

        func step() throws -> (ms: Double, cpu: Double) {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = processCPUSeconds()
            optimizer.zeroGrad()
            let (logits, next) = model(tokens, state: memory)
            try tokenCrossEntropy(logits, targets).backward()
            _ = clipGradientNorm(model, maxNorm: 0.1)
            optimizer.step()
            memory = next.map { $0.detached() }
            return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6, (processCPUSeconds() - cpuStart) * 1e3)
        }

        for _ in 0..<warmup { _ = try step() }
        var times: [Double] = [], cpuTimes: [Double] = []
        for _ in 0..<repeats {
            let (ms, cpu) = try step()
            times.append(ms)
            cpuTimes.append(cpu)
        }
        times.sort()
        cpuTimes.sort()
        let row: [String: Any] = [
            "name": "rmc_lm_train_step", "batch": batch, "bptt": bptt, "vocabulary": vocabulary, "memslots": memorySlots,
            "threads": Threading.threadCount, "ms": times[times.count / 2], "ms_min": times[0],
            "cpu_ms": cpuTimes[cpuTimes.count / 2], "parameters": model.parameterCount(),
        ]
        emit([row], json: json, columns: ["batch", "bptt", "vocabulary", "memslots", "threads", "ms", "ms_min", "cpu_ms", "parameters"])
    }
}
