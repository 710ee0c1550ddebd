import ArgumentParser
import Foundation
import Models
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
            let body = try make()
            try body()   // warm-up: allocations, BLAS threads
            var times: [Double] = []
            for _ in 0..<iterations {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            times.sort()
            results.append(["name": name, "median_ms": times[times.count / 2], "min_ms": times[0],
                            "iterations": iterations])
            if !json {
                print(String(format: "%-32@ median %9.2f ms   min %9.2f ms", name as NSString, times[times.count / 2], times[0]))
            }
        }
        if let saveCheckpoint { try BenchLayers.writeSample(to: URL(fileURLWithPath: saveCheckpoint)) }
        if json {
            let object: [String: Any] = ["group": "layers", "threads": threads, "benchmarks": results]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// A small encoder layer after one SGD-momentum step, with each tensor's float64 sum in the
    /// metadata (`sum:<name>`) so a reader can check the values it loaded.
    static func writeSample(to url: URL) throws {
        let layer = TransformerEncoderLayer(16, heads: 4, feedForward: 32)
        let opt = try SGD(layer, learningRate: 0.1, momentum: 0.9)
        try layer(Tensor.randn([2, 5, 16])).square().mean().backward()
        opt.step()
        var sums: [String: String] = [:]
        for (k, t) in layer.stateDict() { sums["sum:model.\(k)"] = "\(t.to(.float64).sum().item)" }
        for (k, t) in opt.exportState().tensors { sums["sum:optimizer.\(k)"] = "\(t.to(.float64).sum().item)" }
        try Checkpoint.save(model: layer, optimizer: opt, step: 1, extra: sums, to: url)
    }

    static let cases: [(String, @Sendable () throws -> () throws -> Void)] = [
        ("lstm_lm_wt2_train_step", lstmStep),
        ("transformer_layer_d512_fwdbwd", transformerStep),
    ]

    /// The word-level LSTM LM of PyTorch's examples on WikiText-2: vocabulary 33,278,
    /// embedding = hidden = 200, 2 layers, BPTT 35, batch 20; cross entropy, clip 0.25, SGD (lr 20).
    static func lstmStep() throws -> () throws -> Void {
        let (vocab, size, bptt, batch) = (33_278, 200, 35, 20)
        // The zoo's LSTM LM without dropout is the example's model (embedding → LSTM → decoder).
        let model = LSTMLanguageModel(.init(vocabularySize: vocab, embeddingSize: size, hiddenSize: size, layers: 2, dropout: 0))
        let opt = try SGD(model, learningRate: 20)
        let input = Tensor.randint(0, vocab, [bptt, batch])
        let target = Tensor.randint(0, vocab, [bptt * batch])
        return {
            model.zeroGrad()
            let (logits, _) = model(input, state: model.initialState(batch: batch))
            let loss = crossEntropy(logits, target)
            try loss.backward()
            clipGradientNorm(model, maxNorm: 0.25)
            opt.step()
        }
    }

    /// A post-norm encoder layer (d 512, 8 heads, feed-forward 2048) on 16 × 128 tokens:
    /// forward, then backward of the output's sum.
    static func transformerStep() throws -> () throws -> Void {
        let layer = TransformerEncoderLayer(512, heads: 8, feedForward: 2048)
        let x = Tensor.randn([16, 128, 512]).requiringGrad()
        return {
            layer.zeroGrad()
            x.zeroGrad()
            try layer(x).sum().backward()
        }
    }
}
