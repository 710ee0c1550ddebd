import Benchmarking
import ArgumentParser
import Models
import Tensors

/// `deq bench adaptive-span`: one training step of an adaptive-span Transformer, with spans
/// learned short (`--span-ratio`) or at the maximum (`--fixed`), for the trimming comparison and
/// the PyTorch peer Benchmarks/peers/torch_adaptive_span_step.py.
struct BenchAdaptiveSpan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adaptive-span",
        abstract: "Time one training step of the adaptive-span Transformer (small preset sizes by default).")

    @Flag(help: "One JSON object per line.") var json = false
    @Option(help: "Layers.") var layers = 4
    @Option(help: "Hidden size.") var hidden = 128
    @Option(help: "Feed-forward inner size.") var inner = 512
    @Option(help: "Heads.") var heads = 4
    @Option(help: "Maximum attention span.") var span = 512
    @Option(help: "Tokens per block.") var block = 128
    @Option(help: "Sequences per batch.") var batch = 16
    @Option(help: "Vocabulary size (PTB characters: 50).") var vocabulary = 50
    @Option(help: "Span ratio z of every head (spans z × span); omit for the initial ratio 0.") var spanRatio: Double?
    @Flag(help: "A fixed span of the maximum size (no adaptive span) instead.") var fixed = false
    @Option(help: "Untimed warm-up steps.") var warmup = 2
    @Option(help: "Timed steps (median reported).") var repeats = 5

    func validate() throws {
        for (name, value) in [("layers", layers), ("hidden", hidden), ("inner", inner), ("heads", heads), ("span", span),
                              ("block", block), ("batch", batch), ("vocabulary", vocabulary), ("repeats", repeats)] where value <= 0 {
            throw ValidationError("--\(name) must be positive (got \(value))")
        }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more (got \(warmup))") }
        guard hidden % heads == 0 else { throw ValidationError("--hidden (\(hidden)) must be divisible by --heads (\(heads))") }
        if let spanRatio, !(0...1).contains(spanRatio) { throw ValidationError("--span-ratio is a ratio in [0, 1] (got \(spanRatio))") }
    }

    func run() throws {
        var c = AdaptiveSpanTransformer.Configuration(vocabularySize: vocabulary)
        c.layers = layers; c.hiddenSize = hidden; c.innerHiddenSize = inner; c.heads = heads; c.span = span
        c.adaptiveSpan = !fixed
        c.adaptiveCache = !fixed
        let result = try AdaptiveSpanStepBenchmark(configuration: c, batch: batch, block: block, spanRatio: fixed ? nil : spanRatio)
            .run(warmup: warmup, repeats: repeats)
        let row: [String: Any] = [
            "name": "adaptive_span_train_step", "mode": fixed ? "fixed" : "adaptive", "span": span, "block": block, "batch": batch,
            "layers": layers, "hidden": hidden, "threads": Threading.threadCount,
            "attended_keys": result.attendedKeys.map { "\($0)" }.joined(separator: ","),
            "ms": result.milliseconds[result.milliseconds.count / 2], "ms_min": result.milliseconds[0], "parameters": result.parameters,
        ]
        emit([row], json: json, columns: ["mode", "span", "attended_keys", "batch", "block", "threads", "ms", "ms_min"])
    }
}
