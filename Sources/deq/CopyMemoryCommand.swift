import ArgumentParser
import Datasets
import Foundation
import Models
import NN
import Tensors

/// `deq copy-memory`: trains a zoo sequence model on the copy-memory task (symbols, a delay of
/// blanks, a delimiter, then the symbols must be reproduced), made in code, and reports the
/// accuracy on the symbols to reproduce.
struct CopyMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy-memory",
        abstract: "Train a sequence model (deq-transformer, deq-trellisnet, lstm-lm) on the copy-memory task.")

    @Option(help: "Model: deq-transformer, deq-trellisnet or lstm-lm.") var model = "deq-transformer"
    @Option(help: "Symbols to copy.") var length = 10
    @Option(help: "Blanks between the symbols and the delimiter.") var delay = 20
    @Option(help: "Alphabet size.") var alphabet = 8
    @Option(help: "Training steps.") var steps = 300
    @Option(name: .customLong("batch-size")) var batchSize = 32
    @Option(help: "Adam learning rate.") var lr = 3e-3
    @Option(name: .customLong("f-thres"), help: """
        Forward solver iterations (equilibrium models; default 20, and for deq-trellisnet length + delay + 10: \
        its kernel-2 convolution moves information one position per iteration).
        """) var fThres: Int?
    @Option(name: .customLong("b-thres"), help: "Backward solver iterations (default: as --f-thres).") var bThres: Int?
    @Option(help: "Learning-rate schedule: cosine (to zero at the last step) or constant.") var scheduler = "cosine"
    @Option(help: "Print a line every this many steps.") var every = 25
    @Option(help: "Random seed.") var seed: UInt64 = 0

    func validate() throws {
        // The task's sizes are checked by SyntheticTask, the rate by the optimizer, the solver limits by the model.
        try requireAtLeast(1, ["steps": steps, "every": every])
    }

    func run() throws {
        RandomGenerator.manualSeed(seed)
        let classes = alphabet + 2
        let options: [String: String]
        switch model {
        case "deq-transformer": options = ["d-model": "64", "n-head": "4", "d-inner": "128", "cutoffs": "none", "dropout": "0", "mem-len": "1"]
        case "deq-trellisnet": options = ["emsize": "32", "nhid": "64", "dropout": "0"]
        case "lstm-lm": options = ["emsize": "32", "nhid": "64", "nlayers": "1", "dropout": "0"]
        default: throw ValidationError("unknown --model \(model); choose deq-transformer, deq-trellisnet or lstm-lm")
        }
        guard ["cosine", "constant"].contains(scheduler) else {
            throw ValidationError("unknown --scheduler \(scheduler); choose cosine or constant")
        }
        let net = try ModelRegistry.make(model, vocabularySize: classes, options: options)
        let forward = fThres ?? (model == "deq-trellisnet" ? length + delay + 10 : 20)
        try (net as? any EquilibriumLanguageModel)?.configureSolvers(forwardIterations: forward, backwardIterations: bThres ?? forward)
        let optimizer = try Adam(net, learningRate: lr)
        let schedule: (any LearningRateSchedule)? = scheduler == "cosine" ? try CosineWithWarmup(base: lr, total: steps) : nil
        let data = RandomGenerator(seed: seed &+ 1)
        let test = try SyntheticTask.copyMemory(batch: 256, length: length, delay: delay, alphabet: alphabet, generator: RandomGenerator(seed: 99))
        print("copy memory: \(length) symbols from \(alphabet), delay \(delay) (sequences of \(2 * length + delay)); \(model), \(net.parameterCount()) parameters")
        print("chance accuracy on the copied symbols: \(String(format: "%.3f", 1 / Double(alphabet)))")
        if net is any EquilibriumLanguageModel { print("solver iterations: forward \(forward), backward \(bThres ?? forward)") }
        print(" step     loss   copy accuracy (test)   s")
        let start = Date()
        var best = (accuracy: 0.0, step: 0)
        for step in 1...steps {
            schedule?.apply(to: optimizer, step: step - 1)
            let batch = try SyntheticTask.copyMemory(batch: batchSize, length: length, delay: delay, alphabet: alphabet, generator: data)
            optimizer.zeroGrad()
            let (logits, _) = net(batch.input, state: net.initialState(batch: batchSize))
            let loss = crossEntropy(logits, batch.target.flattened())
            let objective = (net as? any EquilibriumLanguageModel)?.auxiliaryLoss.map { loss + $0 } ?? loss
            try objective.backward()
            _ = clipGradientNorm(net, maxNorm: 1)
            optimizer.step()
            if step % every == 0 || step == 1 || step == steps {
                let score = accuracy(net, test)
                if score > best.accuracy { best = (score, step) }
                print(String(format: "%5d  %7.4f  %20.3f  %4.0f", step, loss.item, score, Date().timeIntervalSince(start)))
                fflush(nil)   // nil: every output stream (Swift 6 cannot name the C global stdout)
            }
        }
        print(String(format: "best copy accuracy %.3f at step %d (chance %.3f)", best.accuracy, best.step, 1 / Double(alphabet)))
    }

    /// Accuracy of the argmax prediction on the last `length` steps (the symbols to reproduce).
    private func accuracy(_ net: any LanguageModel, _ batch: SyntheticTask.Batch) -> Double {
        let wasTraining = net.isTraining
        net.eval()
        defer { net.train(wasTraining) }
        let (logits, _) = withoutGradients { net(batch.input, state: net.initialState(batch: batch.input.shape[1])) }
        let total = batch.input.shape[0], b = batch.input.shape[1]
        let predicted = logits.argmax(axis: 1).reshaped([total, b]).sliced(0, total - length)
        let expected = batch.target.sliced(0, total - length)
        return (predicted .== expected).to(.float64).mean().item
    }
}
