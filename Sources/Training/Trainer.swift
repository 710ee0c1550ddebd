import Foundation
import Datasets
import Models
import NN
import Tensors

/// The training loop for language models, in its own `Training` target so the command line, the
/// tests and later models share one implementation (the `deq` executable only parses flags).
///
/// It runs truncated BPTT over batchified streams with a learning-rate schedule, gradient-norm
/// clipping and gradient accumulation (`batchSplit` chunks along the batch), evaluates every
/// `evalInterval` steps, keeps the best checkpoint, and writes `last.safetensors` at every
/// evaluation, at the end and on Ctrl-C. Everything the next step depends on — weights,
/// optimizer slots, the schedule, the global random generator (dropout), the data position and
/// the carried recurrent state — is in the checkpoint, so `--resume` continues bit-exactly.
public final class Trainer {
    /// Unrolled applications of an equilibrium model's cell during `--pretrain-steps`.
    public static let pretrainingDepth = 2
    public let configuration: TrainingConfiguration
    public let corpus: Corpus
    public let workDirectory: URL
    /// Where messages go (stdout in the CLI, captured in tests).
    public var say: (String) -> Void
    /// Progress on stderr (off in tests).
    public var showsProgress = true
    /// The ranks of a data-parallel run (`mpirun`), or nil for one process. Each rank trains on
    /// its share of the batch (see ``DataParallelGroup``); rank 0 alone writes files and messages.
    public var group: (any DataParallelGroup)?
    /// Trains in this floating type instead of the model's own (float64 for exact comparisons).
    public var modelDType: DType?

    /// What a finished (or stopped) run reports.
    public struct Result {
        public var step: Int
        /// The training loss of every step run by this call, keyed by step.
        public var losses: [Int: Double]
        public var evaluations: [(step: Int, loss: Double)]
        public var bestLoss: Double?
        public var interrupted: Bool
        public var stoppedByTime: Bool
    }

    public init(configuration: TrainingConfiguration, corpus: Corpus, say: @escaping (String) -> Void = { print($0) }) {
        self.configuration = configuration
        self.corpus = corpus
        self.workDirectory = URL(fileURLWithPath: configuration.workDir, isDirectory: true)
        self.say = say
    }

    public var lastCheckpointURL: URL { workDirectory.appendingPathComponent("last.safetensors") }
    public var bestCheckpointURL: URL { workDirectory.appendingPathComponent("best.safetensors") }
    public var logURL: URL { workDirectory.appendingPathComponent("log.jsonl") }

    // Mutable run state (saved in checkpoints).
    private var step = 0
    private var bestLoss: Double?
    private var plateauRate: Double = 0
    private var lastCheckpointStep: Int?
    private var isRoot: Bool { (group?.rank ?? 0) == 0 }

    /// Runs until `maxStep` (or `maxTime`, or Ctrl-C/SIGTERM). With `resume`, continues from
    /// `last.safetensors` in the work directory; without it, a directory holding a run is refused
    /// unless `overwrite` (``RunDirectory``).
    public func run(resume: Bool = false, overwrite: Bool = false) throws -> Result {
        let c = configuration
        let metric = MetricKind(corpus: corpus)
        let say: (String) -> Void = isRoot ? self.say : { _ in }
        if c.trainSplit != "train" {
            say("training on the \(c.trainSplit) split (the train split is not used: only valid and test are available here); evaluating on \(c.resolvedEvalSplit)")
        }
        _ = try corpus.tensor(c.trainSplit)   // names the available splits when this one is missing
        let defaults = TrainingConfiguration()
        let unused = [("mem-len", c.memLen != defaults.memLen), ("f-thres", c.fThres != defaults.fThres),
                      ("b-thres", c.bThres != defaults.bThres), ("pretrain-steps", c.pretrainSteps != defaults.pretrainSteps)]
            .filter { $0.1 }.map(\.0)
        if c.model == "lstm-lm" && !unused.isEmpty {
            say("note: \(unused.joined(separator: ", ")) set but not used by lstm-lm (they configure Transformer-XL and equilibrium models)")
        }
        let trainStreams = try batchify(corpus.splits[c.trainSplit] ?? [], batchSize: c.batchSize)
        _ = try corpus.tensor(c.resolvedEvalSplit)
        let evalStreams = try batchify(corpus.splits[c.resolvedEvalSplit] ?? [], batchSize: c.evalBatchSize)
        try SizeCheck.window(bptt: c.bptt, batchSize: c.batchSize, streamLength: trainStreams.shape[0],
                             tokens: corpus.splits[c.trainSplit]?.count ?? 0, split: c.trainSplit)
        let shard = try BatchShard(group: group, globalBatch: c.batchSize, batchSplit: c.batchSplit)
        var iterator = try BPTTIterator(streams: trainStreams, bptt: c.bptt, variableLength: c.variableLength, seed: c.seed &+ 1)

        RandomGenerator.manualSeed(c.seed)
        var modelOptions = c.modelOptions
        if c.memLen > 0 && c.model != "lstm-lm" { modelOptions["mem-len"] = "\(c.memLen)" }
        // Sizes are checked against the machine before the model allocates anything.
        let size = try ModelRegistry.estimate(c.model, vocabularySize: corpus.vocabulary.count, options: modelOptions)
        try SizeCheck.memory(parameters: size.parameters, activationsPerToken: size.activationsPerToken, bptt: c.bptt,
                             batchSize: c.batchSize, evalBatchSize: c.evalBatchSize, vocabulary: corpus.vocabulary.count,
                             modelSizes: c.modelOptions)
        let model = try ModelRegistry.make(c.model, vocabularySize: corpus.vocabulary.count, options: modelOptions)
        if let modelDType { model.convert(to: modelDType) }
        // Equilibrium models take their solver limits and pre-training from the run's options.
        let equilibrium = model as? any EquilibriumLanguageModel
        try equilibrium?.configureSolvers(forwardIterations: c.fThres, backwardIterations: c.bThres)
        let optimizer = try makeOptimizer(model)
        var carry = model.initialState(batch: c.batchSize)
        step = 0
        bestLoss = nil
        plateauRate = c.lr
        lastCheckpointStep = nil
        // One run per directory, locked until this call returns (flock: a killed run leaves no lock).
        // Under data parallelism rank 0 owns the directory; the other ranks only read a checkpoint.
        let runDirectory = isRoot ? try RunDirectory.claim(workDirectory, resume: resume, overwrite: overwrite, say: say) : nil
        defer { runDirectory?.release() }

        if resume {
            let ckpt = try RunCheckpoint.read(lastCheckpointURL)
            if ckpt.modelName != c.model {
                throw CheckpointError("\(ckpt.url.path) holds a \(ckpt.modelName) model, not \(c.model); pass --model \(ckpt.modelName) or start a new run in another --work-dir")
            }
            try ResumeCheck.sameData(ckpt, corpus: corpus)
            try ckpt.checkFinite(includingState: true)
            do { try model.load(ckpt.tensors(under: "model")) } catch {
                throw ResumeCheck.sizeRefusal(ckpt, model: model, error: error)
            }
            try optimizer.importState(tensors: ckpt.tensors(under: "optimizer"), metadata: ckpt.metadata)
            let m = ckpt.metadata
            guard let seed = m["rng_seed"].flatMap(UInt64.init), let offset = m["rng_offset"].flatMap(UInt64.init),
                  let position = m["data_position"].flatMap(Int.init), let epoch = m["data_epoch"].flatMap(Int.init),
                  let random = m["data_random"].flatMap(UInt64.init) else {
                throw CheckpointError("\(ckpt.url.path) lacks the random or data state needed to resume; start a new run")
            }
            var rng = RandomGenerator(seed: seed).state
            rng.offset = offset
            RandomGenerator.global.state = rng
            // Another --batch-size gives streams of another length: the data continues at the
            // same share of the epoch, and the carried state (shaped by the batch) starts fresh.
            let savedBatch = ckpt.configuration["batch-size"].flatMap(Int.init) ?? c.batchSize
            let tokens = corpus.splits[c.trainSplit]?.count ?? 0
            let resumedPosition = savedBatch == c.batchSize ? position
                : ResumeCheck.position(position, savedSteps: tokens / max(savedBatch, 1), steps: trainStreams.shape[0])
            try iterator.restore(.init(position: resumedPosition, epoch: epoch, random: random))
            let saved = ckpt.carry
            if savedBatch != c.batchSize {
                say("--batch-size \(c.batchSize) (the run used \(savedBatch)): the carried state starts fresh and the data continues at the same share of the epoch")
            } else {
            guard saved.count == carry.count else { throw CheckpointError("\(ckpt.url.path) has \(saved.count) carried state tensors, the model needs \(carry.count)") }
            guard zip(saved, carry).allSatisfy({ $0.shape == $1.shape }) else {
                throw CheckpointError("\(ckpt.url.path) carries state of shapes \(saved.map(\.shape)), this run needs \(carry.map(\.shape)); resume with the --batch-size the run was started with")
            }
            carry = saved
            }
            step = ckpt.step
            bestLoss = m["best_loss"].flatMap(Double.init)
            let changes = ResumeCheck.changes(ckpt, configuration: c)
            // A new --lr restarts the plateau schedule from it; otherwise the decayed rate goes on.
            plateauRate = changes.contains { $0.hasPrefix("--lr ") } ? c.lr : (m["plateau_lr"].flatMap(Double.init) ?? c.lr)
            lastCheckpointStep = step
            say("resumed from \(ckpt.url.path) at step \(step)")
            if !changes.isEmpty { say("changed on resume (applied from the next step): \(changes.joined(separator: ", "))") }
        }
        // Checkpoints hold the whole batch's carried state; this rank keeps its columns.
        carry = shard.local(state: carry, axis: model.stateBatchAxis)
        try group?.synchronizeParameters(of: model)
        let log = isRoot ? try MetricsLog(url: logURL, truncatingAfter: resume ? step : nil) : nil
        var board: TensorBoardWriter?
        if isRoot {
            do { board = try TensorBoardWriter(directory: workDirectory) } catch {
                throw FileSystemError.describe(error, writing: workDirectory, fix: "check that the run directory is writable, or pass another --work-dir")
            }
            let configURL = workDirectory.appendingPathComponent("config.json")
            do { try (RunCheckpoint.encode(c.values) + "\n").write(to: configURL, atomically: true, encoding: .utf8) } catch {
                throw FileSystemError.describe(error, writing: configURL, fix: "check that the run directory is writable and the disk has space, or pass another --work-dir")
            }
        }
        say("model \(c.model): \(model.parameterCount()) parameters; \(corpus.name) vocabulary \(corpus.vocabulary.count); \(trainStreams.count) training tokens in \(c.batchSize) streams\(shard.ranks > 1 ? " over \(shard.ranks) ranks (\(shard.localBatch) each)" : "")")

        var result = Result(step: step, losses: [:], evaluations: [], bestLoss: bestLoss, interrupted: false, stoppedByTime: false)
        var progress = ProgressReporter(total: c.maxStep, interval: c.logInterval)
        let start = Date().timeIntervalSince1970
        var tokensSeen = 0
        let stepsAtStart = step
        Interrupt.install()
        defer { Interrupt.uninstall() }

        func checkpointMetadata() -> [String: String] {
            var m: [String: String] = [
                "step": "\(step)", "config": RunCheckpoint.encode(c.values),
                "vocabulary": corpus.vocabulary.symbols.joined(separator: "\n"), "dataset": corpus.name,
                "metric": metric.rawValue,
                "rng_seed": "\(RandomGenerator.global.state.seed)", "rng_offset": "\(RandomGenerator.global.state.offset)",
                "data_position": "\(iterator.state.position)", "data_epoch": "\(iterator.state.epoch)",
                "data_random": "\(iterator.state.random)", "plateau_lr": "\(plateauRate)",
            ]
            if let bestLoss { m["best_loss"] = "\(bestLoss)" }
            return m
        }
        func retryAdvice() -> String {
            lastCheckpointStep == nil ? "lower --lr or --clip and start again with --overwrite" : "lower --lr or --clip and resume"
        }
        func keptMessage() -> String {
            // Every checkpoint written is finite (saveLast and RunCheckpoint.save check), so the last one is good.
            lastCheckpointStep.map { "the last good checkpoint is \(lastCheckpointURL.path) (step \($0))" } ?? "no checkpoint was saved yet"
        }
        func checkFiniteWeights() throws {
            // A finite loss can still be followed by an update that overflows; such weights are
            // never written over the last good checkpoint, nor as the best one.
            guard model.hasFiniteParameters else {
                progress.clearLine()
                throw TrainingError("the run diverged: the weights became non-finite at step \(step); stopped without saving them — \(keptMessage()); \(retryAdvice())")
            }
        }
        func saveLast() throws {
            try checkFiniteWeights()
            let whole = try shard.global(state: carry, axis: model.stateBatchAxis, group: group)
            if isRoot { try RunCheckpoint.save(model: model, optimizer: optimizer, carry: whole, metadata: checkpointMetadata(), to: lastCheckpointURL) }
            lastCheckpointStep = step
        }
        func evaluate(full: Bool) throws -> Double {
            let (loss, tokens) = try evaluateLanguageModel(model, streams: evalStreams, bptt: c.bptt, maxTokens: full ? nil : c.evalMaxTokens)
            let value = metric.value(loss: loss)
            log?.append(["type": "eval", "step": step, "split": c.resolvedEvalSplit, "loss": loss, metric.rawValue: value, "tokens": tokens,
                         "seconds": Date().timeIntervalSince1970 - start])
            board?.scalar("\(c.resolvedEvalSplit)/loss", loss, step: step)
            board?.scalar("\(c.resolvedEvalSplit)/\(metric.rawValue)", value, step: step)
            board?.flush()
            result.evaluations.append((step, loss))
            progress.clearLine()
            say(String(format: "eval at step %d on %@ (%d tokens): loss %.4f  %@ %.3f", step, c.resolvedEvalSplit, tokens, loss, metric.rawValue, value))
            return loss
        }

        // A non-finite evaluation loss stops the run before any checkpoint of it is written.
        func checkFinite(evaluation loss: Double) throws {
            guard loss.isFinite else {
                progress.clearLine()
                throw TrainingError("the run diverged: the evaluation loss became \(loss) at step \(step); stopped without saving — \(keptMessage()); \(retryAdvice())")
            }
        }

        while step < c.maxStep {
            // Every rank stops at the same step, or the others would wait in a collective.
            var stops = [Interrupt.requested, c.maxTime.map { Date().timeIntervalSince1970 - start >= $0 } ?? false]
            if let group { stops = try group.any(stops) }
            if stops[0] {
                try saveLast()
                progress.clearLine()
                say("interrupted (\(Interrupt.signalName)) at step \(step); saved \(lastCheckpointURL.path) (continue with --resume)")
                result.interrupted = true
                break
            }
            if let maxTime = c.maxTime, stops[1] {
                progress.clearLine()
                say("stopping at step \(step): --max-time \(maxTime) s reached")
                result.stoppedByTime = true
                break
            }
            guard let window = iterator.next() ?? {
                // A new pass starts from a fresh state, as the reference loop does at each epoch.
                carry = model.initialState(batch: shard.localBatch)
                return iterator.next()
            }() else { throw TrainingError("the training split is too short for one BPTT window") }

            let lr = try learningRate(at: step)
            optimizer.learningRate = lr
            model.train()
            // The reference's shallow pre-training: a few unrolled layers before the solver takes over.
            equilibrium?.setPretraining(depth: step < c.pretrainSteps ? Trainer.pretrainingDepth : nil)
            optimizer.zeroGrad()
            let chunk = shard.localBatch / c.batchSplit
            let (windowInput, windowTarget) = (shard.local(window.input), shard.local(window.target))
            var stepLoss = 0.0
            var nextCarry: [[Tensor]] = []
            for k in 0..<c.batchSplit {
                let input = c.batchSplit == 1 ? windowInput : windowInput.narrow(1, start: k * chunk, length: chunk).contiguous()
                let target = c.batchSplit == 1 ? windowTarget : windowTarget.narrow(1, start: k * chunk, length: chunk).contiguous()
                let state = c.batchSplit == 1 ? carry : carry.map { $0.narrow(model.stateBatchAxis, start: k * chunk, length: chunk) }
                let (logits, next) = model(input, state: state)
                // Each chunk's mean is weighted by its share, so the sum is the batch mean.
                let loss = tokenCrossEntropy(logits, target.flattened()) * (1.0 / Double(c.batchSplit))
                // A DEQ's Jacobian regularisation joins the objective but not the reported loss.
                let auxiliary = equilibrium?.auxiliaryLoss ?? (model as? RegularizedModel)?.auxiliaryLoss
                let objective = auxiliary.map { loss + $0 * (1.0 / Double(c.batchSplit)) } ?? loss
                try objective.backward()
                stepLoss += loss.item
                nextCarry.append(next.map { $0.detached() })
            }
            carry = c.batchSplit == 1 ? nextCarry[0] : (0..<carry.count).map { i in Tensor.concat(nextCarry.map { $0[i] }, axis: model.stateBatchAxis) }
            var allReduceSeconds: Double?
            if let group {
                // After backward, before clipping: every rank clips and steps the same mean gradient.
                let t0 = Date().timeIntervalSince1970
                try group.averageGradients(model.parameters())
                stepLoss = try group.sum([stepLoss])[0] / Double(group.size)
                allReduceSeconds = Date().timeIntervalSince1970 - t0
            }
            guard stepLoss.isFinite else {
                progress.clearLine()
                log?.append(["type": "train", "step": step + 1, "loss": stepLoss, "lr": lr, "diverged": true])
                throw TrainingError("the run diverged: the training loss became \(stepLoss) at step \(step + 1); stopped without saving it — \(keptMessage()); \(retryAdvice())")
            }
            if c.clip > 0 { clipGradientNorm(model, maxNorm: c.clip) }
            optimizer.step()
            (model as? RegularizedModel)?.afterOptimizerStep()
            step += 1
            result.losses[step] = stepLoss
            tokensSeen += window.input.count
            let elapsed = Date().timeIntervalSince1970 - start
            let tps = Double(tokensSeen) / max(elapsed, 1e-9)
            var entry: [String: Any] = ["type": "train", "step": step, "loss": stepLoss, metric.rawValue: metric.value(loss: stepLoss), "lr": lr,
                                        "tokens_per_s": tps, "epoch": iterator.epoch, "seconds": elapsed]
            // Time in the gradient all-reduce, waiting for the slowest rank included.
            if let allReduceSeconds { entry["allreduce_s"] = allReduceSeconds }
            if let stats = equilibrium?.deq.lastStats {
                entry["fwd_iters"] = stats.forwardIterations
                entry["fwd_rel_residual"] = stats.forwardRelativeResidual
                entry["fwd_converged_share"] = stats.forwardConvergedShare
                entry["bwd_iters"] = stats.backwardIterations
                entry["bwd_rel_residual"] = stats.backwardRelativeResidual
                board?.scalar("deq/forward_iterations", Double(stats.forwardIterations), step: step)
                board?.scalar("deq/forward_relative_residual", stats.forwardRelativeResidual, step: step)
            }
            log?.append(entry)
            board?.scalar("train/loss", stepLoss, step: step)
            board?.scalar("train/lr", lr, step: step)
            if showsProgress && isRoot {
                var eta = elapsed / Double(step - stepsAtStart) * Double(c.maxStep - step)
                if let maxTime = c.maxTime { eta = min(eta, max(0, maxTime - elapsed)) }
                progress.update(step: step, loss: stepLoss, metric: String(format: "%@ %.2f", metric.rawValue, metric.value(loss: stepLoss)),
                                tokensPerSecond: tps, eta: eta, lr: lr)
            }
            if step % c.evalInterval == 0 && step < c.maxStep {
                let loss = try evaluate(full: false)
                try checkFinite(evaluation: loss)
                try checkFiniteWeights()
                try afterEvaluation(loss: loss, model: model, optimizer: optimizer, carry: shard.global(state: carry, axis: model.stateBatchAxis, group: group),
                                    metadata: checkpointMetadata)
                try saveLast()
            }
        }
        if !result.interrupted {
            let loss = try evaluate(full: c.finalEvalFull)
            try checkFinite(evaluation: loss)
            try checkFiniteWeights()
            try afterEvaluation(loss: loss, model: model, optimizer: optimizer, carry: shard.global(state: carry, axis: model.stateBatchAxis, group: group),
                                metadata: checkpointMetadata)
            try saveLast()
        }
        board?.flush()
        result.step = step
        result.bestLoss = bestLoss
        return result
    }

    /// Keeps the best checkpoint and steps the plateau schedule.
    private func afterEvaluation(loss: Double, model: any LanguageModel, optimizer: Optimizer, carry: [Tensor],
                                 metadata: () -> [String: String]) throws {
        if bestLoss.map({ loss < $0 }) ?? true {
            bestLoss = loss
            if isRoot { try RunCheckpoint.save(model: model, optimizer: optimizer, carry: carry, metadata: metadata(), to: bestCheckpointURL) }
        } else if configuration.scheduler == "plateau" {
            // The reference word-level script divides the rate by 4 when validation stops improving.
            plateauRate *= configuration.decayFactor
            if isRoot { say("no improvement: learning rate now \(plateauRate)") }
        }
    }

    private func learningRate(at step: Int) throws(NNError) -> Double {
        let c = configuration
        switch c.scheduler {
        case "cosine": return try CosineWithWarmup(base: c.lr, warmup: c.warmup, total: c.maxStep).learningRate(at: step)
        case "inv_sqrt": return try InverseSquareRoot(base: c.lr, warmup: max(c.warmup, 1)).learningRate(at: step)
        case "step": return try StepDecay(base: c.lr, stepSize: c.evalInterval, gamma: c.decayFactor).learningRate(at: step)
        case "plateau": return c.warmup > 0 ? try LinearWarmup(base: plateauRate, warmup: c.warmup).learningRate(at: step) : plateauRate
        default: return c.warmup > 0 ? try LinearWarmup(base: c.lr, warmup: c.warmup).learningRate(at: step) : c.lr
        }
    }

    private func makeOptimizer(_ model: any LanguageModel) throws(NNError) -> Optimizer {
        let c = configuration
        return try OptimizerRegistry.make(c.optim, model: model, settings: .init(learningRate: c.lr, momentum: c.momentum, weightDecay: c.weightDecay))
    }
}

/// Training had to stop. The message names the step and what was kept.
public struct TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
