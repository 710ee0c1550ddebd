import ArgumentParser
import Datasets
import Foundation
import Models
import Tensors
import Training

/// `deq eval`: the loss and perplexity (or bits per character) of a checkpoint on a split.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Evaluate a checkpoint on a split.")

    @Argument(help: "A checkpoint written by deq train (best.safetensors or last.safetensors).") var checkpoint: String
    @Option(help: "Data directory (else EQ_DATA).") var data: String?
    @Option(help: "Split to evaluate.") var split = "test"
    @Option(name: .customLong("batch-size")) var batchSize = 10
    @Option(help: "Window length (default: the run's).") var bptt: Int?
    @Option(help: "Model the checkpoint must hold.") var model: String?
    @Option(name: .customLong("f-thres"), parsing: .upToNextOption,
            help: "Forward solver iterations to sweep (equilibrium models), e.g. --f-thres 2 4 8 16.")
    var fThres: [Int] = []
    @Option(name: .customLong("mem-len"), parsing: .upToNextOption,
            help: "Memory lengths to sweep (DEQ-Transformer), e.g. --mem-len 0 16 48.")
    var memLen: [Int] = []
    @Option(name: .customLong("max-tokens"), help: "Evaluate only the first this many tokens.") var maxTokens: Int?
    @Option(help: "Write the sweep as an SVG plot (perplexity against f_thres, one line per memory length).")
    var plot: String?
    @Flag(help: "Print only one JSON line with the full-precision loss (no sweep).") var json = false
    @Flag(name: .customLong("allow-non-finite"), help: "Load weights holding NaN or infinities (a diverged run's) instead of refusing them.")
    var allowNonFinite = false

    func run() throws {
        let ckpt = try RunCheckpoint.read(URL(fileURLWithPath: checkpoint))
        let lm = try ckpt.makeModel(expectedModel: model, allowNonFinite: allowNonFinite)
        let config = ckpt.configuration
        let loaded = try loadCorpus(dataset: ckpt.metadata["dataset"] ?? config["dataset"] ?? "wikitext-2", data: data ?? config["data"],
                                    vocabularySplit: TrainingConfiguration.vocabularySplit(
                                        vocabFrom: config["vocab-from"] ?? "all", trainSplit: config["train-split"] ?? "train"),
                                    say: { if !json { print($0) } })
        // An imported reference checkpoint numbers the same words in the reference's order.
        let corpus = try loaded.reindexed(to: ckpt.vocabulary ?? loaded.vocabulary)
        if let deqModel = lm as? any EquilibriumLanguageModel, let f = config["f-thres"].flatMap(Int.init) {
            try deqModel.configureSolvers(forwardIterations: f, backwardIterations: config["b-thres"].flatMap(Int.init) ?? f)
        }
        let streams = try batchify(corpus.splits[split] ?? corpus.tensor(split).toArray(Int64.self).map(Int.init), batchSize: batchSize)
        let window = bptt ?? config["bptt"].flatMap(Int.init) ?? 35
        let metric = MetricKind(corpus: corpus)
        guard !fThres.isEmpty || !memLen.isEmpty else {
            let start = Date()
            let (loss, tokens) = try evaluateLanguageModel(lm, streams: streams, bptt: window, maxTokens: maxTokens)
            if json {
                // Swift prints a Double with the digits that round-trip it.
                print("{\"dataset\": \"\(corpus.name)\", \"split\": \"\(split)\", \"tokens\": \(tokens), \"loss\": \(loss), \"\(metric.rawValue)\": \(metric.value(loss: loss))}")
                return
            }
            print(String(format: "%@ %@: %d tokens, loss %.4f, %@ %.3f (%.1f s)", corpus.name, split, tokens, loss,
                         metric.rawValue, metric.value(loss: loss), Date().timeIntervalSince(start)))
            return
        }
        try sweep(lm, streams: streams, window: window, metric: metric)
    }

    /// Evaluates every (f_thres, mem_len) pair: the reference shows more solver steps at inference
    /// give diminishingly better perplexity.
    private func sweep(_ lm: any LanguageModel, streams: Tensor, window: Int, metric: MetricKind) throws {
        guard let deqModel = lm as? any EquilibriumLanguageModel else {
            throw ValidationError("--f-thres and --mem-len sweep equilibrium models; this checkpoint holds \(lm.modelName)")
        }
        let transformer = lm as? DEQTransformerLM
        if !memLen.isEmpty && transformer == nil {
            throw ValidationError("--mem-len applies to deq-transformer; this checkpoint holds \(lm.modelName)")
        }
        let iterations = fThres.isEmpty ? [deqModel.deq.options.forwardIterations] : fThres
        let memories = memLen.isEmpty ? [transformer?.memoryLength ?? 0] : memLen
        for f in iterations { try deqModel.setInferenceIterations(f) }   // every value is checked before the first evaluation
        for m in memories { try transformer?.setMemoryLength(m) }
        print("f_thres  mem_len  tokens  loss     \(metric.rawValue)      mean fwd it  s")
        var series: [CurvePlot.Series] = []
        for m in memories {
            try transformer?.setMemoryLength(m)
            var values: [Double] = []
            for f in iterations {
                try deqModel.setInferenceIterations(f)
                let start = Date()
                let (loss, tokens) = try evaluateLanguageModel(lm, streams: streams, bptt: window, maxTokens: maxTokens)
                let value = metric.value(loss: loss)
                values.append(value)
                print(String(format: "%7d  %7d  %6d  %.4f  %9.3f  %11d  %.1f", f, m, tokens, loss, value,
                             deqModel.deq.lastStats?.forwardIterations ?? 0, Date().timeIntervalSince(start)))
                fflush(nil)   // nil: every output stream (Swift 6 cannot name the C global stdout)
            }
            series.append(.init(label: "mem_len \(m)", points: zip(iterations, values).map { (x: Double($0), y: $1) }))
        }
        if let plot {
            let chart = CurvePlot(title: "\(metric.rawValue) against inference-time solver iterations",
                                  xLabel: "f_thres", yLabel: metric.rawValue, series: series)
            try FileSystemError.write(chart.render(), to: plot, flag: "--plot")
            print("wrote \(plot)")
        }
    }
}
