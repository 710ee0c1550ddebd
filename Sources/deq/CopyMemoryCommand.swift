import ArgumentParser
import Foundation
import Models
import NN
import Tensors
import Training

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
    @Option(name: .customLong("work-dir"), help: "Write checkpoints and log.jsonl here (default: nothing is written).") var workDir: String?
    @Flag(help: "Continue the run in --work-dir from its last checkpoint.") var resume = false
    @Flag(help: "Replace the run already in --work-dir.") var overwrite = false

    func validate() throws {
        // The task's sizes are checked by SyntheticTask, the rate by the optimizer, the solver limits by the model.
        try requireAtLeast(1, ["steps": steps, "every": every])
        guard ["cosine", "constant"].contains(scheduler) else {
            throw ValidationError("unknown --scheduler \(scheduler); choose cosine or constant")
        }
        if (resume || overwrite) && workDir == nil { throw ValidationError("--resume and --overwrite need --work-dir") }
        if resume && overwrite { throw ValidationError("--resume continues the run in --work-dir and --overwrite replaces it; pass one of them") }
    }

    func run() throws {
        StandardOutput.makeLineBuffered()
        RandomGenerator.manualSeed(seed)
        let task = CopyMemoryTask(length: length, delay: delay, alphabet: alphabet)
        let net = try task.makeModel(model, forwardIterations: fThres, backwardIterations: bThres)
        let data = RandomGenerator(seed: seed &+ 1)
        let test = try task.batch(256, generator: RandomGenerator(seed: 99))
        _ = try task.batch(batchSize, generator: RandomGenerator(seed: 0))   // the sizes' errors before any output
        let trainer = TaskTrainer(model: net, optimizer: try Adam(net, learningRate: lr), workDirectory: workDir)
        trainer.schedule = scheduler == "cosine" ? try CosineWithWarmup(base: lr, total: steps) : nil
        trainer.clip = 1
        trainer.generators["data"] = data
        trainer.regularizer = { (net as? any EquilibriumLanguageModel)?.auxiliaryLoss }
        trainer.progressInterval = 0
        trainer.evaluationInterval = every
        trainer.evaluatesFirstStep = true
        var trainLoss = 0.0, best = (accuracy: 0.0, step: 0)
        let start = Date()
        trainer.afterStep = { _, loss in trainLoss = loss }
        trainer.evaluate = { step in
            let score = task.accuracy(net, test)
            if score > best.accuracy { best = (score, step) }
            print(String(format: "%5d  %7.4f  %20.3f  %4.0f", step, trainLoss, score, Date().timeIntervalSince(start)))
            return ["copy_accuracy": score]
        }
        print("copy memory: \(length) symbols from \(alphabet), delay \(delay) (sequences of \(task.sequenceLength)); \(model), \(net.parameterCount()) parameters")
        print("chance accuracy on the copied symbols: \(String(format: "%.3f", 1 / Double(alphabet)))")
        if net is any EquilibriumLanguageModel {
            let forward = fThres ?? task.defaultForwardIterations(model: model)
            print("solver iterations: forward \(forward), backward \(bThres ?? forward)")
        }
        print(" step     loss   copy accuracy (test)   s")
        let result = try trainer.run(steps: steps, resume: resume, overwrite: overwrite) { _ in
            task.loss(net, try task.batch(batchSize, generator: data))
        }
        if best.step > 0 {
            print(String(format: "best copy accuracy %.3f at step %d (chance %.3f)", best.accuracy, best.step, 1 / Double(alphabet)))
        }
        if result.interrupted { throw ExitCode(128 + (Interrupt.signalNumber == 0 ? SIGINT : Interrupt.signalNumber)) }
    }
}
