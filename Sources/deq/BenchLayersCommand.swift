import ArgumentParser
import Benchmarking
import Foundation
import NN
import Tensors

/// `deq bench layers`: times a word-level LSTM language-model training step and a Transformer
/// encoder layer's forward + backward, the workloads `Benchmarks/peers/torch_layers.py` times in PyTorch.
struct BenchLayers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "Time an LSTM LM training step (WikiText-2 sizes) and a d=512 Transformer layer."
    )

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: "Timed repetitions per benchmark (after one warm-up run).")
    var iterations = 5

    @Option(help: "Threads for kernels and BLAS.")
    var threads = 2

    @Option(help: "Run only benchmarks whose name contains this.")
    var filter: String?

    @Option(help: "Also write a small trained layer's checkpoint here (read by Benchmarks/peers/safetensors_roundtrip.py).")
    var saveCheckpoint: String?

    func validate() throws {
        try requireAtLeast(1, ["iterations": iterations, "threads": threads])
    }

    func run() throws {
        Threading.threadCount = threads
        RandomGenerator.manualSeed(0)
        var results: [[String: Any]] = []
        for (name, make) in BenchLayers.cases where filter.map({ name.contains($0) }) ?? true {
            // One warm-up step: allocations, BLAS threads.
            let times = try StepTimer(warmup: 1, repeats: iterations).run(make().step).milliseconds
            results.append(["name": name, "median_ms": times[times.count / 2], "min_ms": times[0],
                            "iterations": iterations])
            if !json {
                print(String(format: "%-32@ median %9.2f ms   min %9.2f ms", name as NSString, times[times.count / 2], times[0]))
            }
        }
        if let saveCheckpoint { try TrainingStepWorkloads.writeTrainedLayerSample(to: URL(fileURLWithPath: saveCheckpoint)) }
        if json {
            let object: [String: Any] = ["group": "layers", "threads": threads, "benchmarks": results]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    static let cases: [(String, @Sendable () throws -> TrainingStepWorkload)] = [
        ("lstm_lm_wt2_train_step", TrainingStepWorkloads.lstmLanguageModel),
        ("transformer_layer_d512_fwdbwd", TrainingStepWorkloads.transformerLayer),
    ]
}
