import Foundation
import NN
import Tensors

/// The training loop for any model and any task: the caller builds the model and gives the task
/// as "the loss of step n"; the loop does the rest.
///
/// With a work directory it gives a user's own module what `deq train` gives the zoo: one run per
/// directory (``RunDirectory``), atomic checkpoints (`last.safetensors` with the model, the
/// optimizer's slots, the step and the random generators, never with non-finite weights), exact
/// resume, Ctrl-C and SIGTERM save, a JSON-lines `log.jsonl` that keeps non-finite values, the
/// NaN stop naming the step and the last good checkpoint, and progress lines. Without one it runs
/// in memory (the demo).
///
/// ```swift
/// let trainer = TaskTrainer(model: net, optimizer: try Adam(net, learningRate: 1e-3), workDirectory: "runs/mine")
/// trainer.generators["data"] = data            // a data stream resumes where it stopped
/// try trainer.run(steps: 200, resume: resumeFlag) { step in
///     let (x, y) = task.batch(64, generator: data)
///     return mseLoss(try net(x), y)
/// }
/// ```
///
/// Resume is exact when a step's loss depends only on the weights and the generators the trainer
/// knows: the global one (dropout, initialisation) always, and those in ``generators``.
public final class TaskTrainer {
    public let model: Module
    public let optimizer: Optimizer
    /// Where checkpoints and the log go; nil: nothing is written (no resume).
    public let workDirectory: URL?
    /// Sets the learning rate before each step (from step 0).
    public var schedule: (any LearningRateSchedule)?
    /// Gradient-norm clip (0: none).
    public var clip = 0.0
    /// Added to the objective of every step but not to the reported loss (a DEQ's Jacobian term).
    public var regularizer: (() -> Tensor?)?
    /// Stop after the step that passes this many seconds (a checkpoint is written).
    public var maxTime: Double?
    /// Checkpoint every this many steps (and at the end, on the time limit and on Ctrl-C/SIGTERM).
    public var checkpointInterval = 50
    /// Calls ``evaluate`` every this many steps and after the last; 0: never.
    public var evaluationInterval = 0
    /// Also evaluate after step 1 (where a curve starts).
    public var evaluatesFirstStep = false
    /// Figures of the model at a step (test loss, accuracy), logged as an `eval` entry.
    public var evaluate: ((_ step: Int) throws -> [String: Double])?
    /// Called after the backward pass of every step, before clipping and the optimizer's step
    /// (the raw gradients are the parameters' `grad`s then).
    public var afterBackward: ((_ step: Int) throws -> Void)?
    /// Called after every step with its reported loss (for a caller's own figures).
    public var afterStep: ((_ step: Int, _ loss: Double) throws -> Void)?
    /// Asked after every step: true ends the run there (a checkpoint is written), e.g. at a target loss.
    public var shouldStop: ((_ step: Int) -> Bool)?
    /// A non-finite loss ends the run with an error naming the step (true) or returns a result
    /// marked ``Result/diverged`` (false: where divergence is a finding, as in a depth race).
    public var throwsOnDivergence = true
    /// Random generators besides the global one whose state the checkpoint keeps, by name.
    public var generators: [String: RandomGenerator] = [:]
    /// A progress line every this many steps (a bar on a terminal); 0: none.
    public var progressInterval = 10
    public var say: (String) -> Void

    public var lastCheckpointURL: URL? { workDirectory?.appendingPathComponent("last.safetensors") }
    public var logURL: URL? { workDirectory?.appendingPathComponent("log.jsonl") }

    /// What a finished (or stopped) run reports.
    public struct Result {
        public var step = 0
        /// The reported loss of every step this call ran, keyed by step.
        public var losses: [Int: Double] = [:]
        public var evaluations: [(step: Int, figures: [String: Double])] = []
        public var interrupted = false
        public var stoppedByTime = false
        /// Ended by ``shouldStop``.
        public var stoppedEarly = false
        /// The loss became non-finite (only returned when ``throwsOnDivergence`` is false).
        public var diverged = false
    }

    public init(model: Module, optimizer: Optimizer, workDirectory: String? = nil,
                say: @escaping (String) -> Void = { print($0) }) {
        self.model = model
        self.optimizer = optimizer
        self.workDirectory = workDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) }
        self.say = say
    }

    /// Trains until step `steps` (or ``maxTime``, or Ctrl-C/SIGTERM). With `resume`, continues
    /// from `last.safetensors`; without it an existing run directory is refused unless `overwrite`.
    @discardableResult
    public func run(steps: Int, resume: Bool = false, overwrite: Bool = false,
                    loss: (_ step: Int) throws -> Tensor) throws -> Result {
        guard steps >= 1 else { throw TrainingError("steps must be at least 1, got \(steps)") }
        guard workDirectory != nil || !resume else { throw TrainingError("resume needs a work directory to resume from") }
        let runDirectory = try workDirectory.map { try RunDirectory.claim($0, resume: resume, overwrite: overwrite, say: say) }
        defer { runDirectory?.release() }
        var result = Result()
        if resume, let url = lastCheckpointURL { result.step = try restore(from: url) }
        let log = try logURL.map { try MetricsLog(url: $0, truncatingAfter: resume ? result.step : nil) }
        var progress = ProgressReporter(total: steps, interval: max(progressInterval, 1))
        progress.rateUnit = "steps/s"
        var lastSaved: Int? = resume ? result.step : nil
        Interrupt.install()
        defer { Interrupt.uninstall() }

        let start = Date().timeIntervalSince1970
        func kept() -> String {
            guard let url = lastCheckpointURL else { return "nothing is saved without a work directory" }
            return lastSaved.map { "the last good checkpoint is \(url.path) (step \($0))" } ?? "no checkpoint was saved yet"
        }
        func diverged(_ what: String) -> TrainingError {
            progress.clearLine()
            return TrainingError("the run diverged: \(what); stopped without saving it — \(kept()); lower the learning rate or clip\(lastSaved == nil ? "" : " and resume")")
        }
        func save() throws {
            guard model.hasFiniteParameters else {
                throw diverged("the weights became non-finite at step \(result.step)")
            }
            guard let url = lastCheckpointURL else { return }
            var extra: [String: String] = [:]
            for (name, g) in generators {
                extra["rng_\(name)_seed"] = "\(g.state.seed)"
                extra["rng_\(name)_offset"] = "\(g.state.offset)"
            }
            try Checkpoint.save(model: model, optimizer: optimizer, step: result.step, extra: extra, to: url)
            lastSaved = result.step
        }
        func runEvaluation() throws {
            guard let evaluate else { return }
            let figures = try withoutGradients { try evaluate(result.step) }
            var entry: [String: Any] = figures
            (entry["type"], entry["step"], entry["seconds"]) = ("eval", result.step, Date().timeIntervalSince1970 - start)
            log?.append(entry)
            result.evaluations.append((result.step, figures))
            if let bad = figures.first(where: { !$0.value.isFinite }) {
                throw diverged("the evaluation's \(bad.key) became \(bad.value) at step \(result.step)")
            }
        }

        let firstStep = result.step
        while result.step < steps {
            if Interrupt.requested {
                try save()
                progress.clearLine()
                say("interrupted (\(Interrupt.signalName)) at step \(result.step)\(lastCheckpointURL.map { "; saved \($0.path) (continue with resume)" } ?? "")")
                result.interrupted = true
                break
            }
            let elapsed = Date().timeIntervalSince1970 - start
            if let maxTime, elapsed >= maxTime {
                try save()
                progress.clearLine()
                say(String(format: "stopping at step %d: the time limit of %g s is reached", result.step, maxTime))
                result.stoppedByTime = true
                break
            }
            schedule?.apply(to: optimizer, step: result.step)
            model.train()
            optimizer.zeroGrad()
            let reported = try loss(result.step + 1)
            let value = reported.item
            guard value.isFinite else {
                log?.append(["type": "train", "step": result.step + 1, "loss": value, "diverged": true])
                guard throwsOnDivergence else {
                    result.diverged = true
                    break
                }
                throw diverged("the loss became \(value) at step \(result.step + 1)")
            }
            try (regularizer?().map { reported + $0 } ?? reported).backward()
            try afterBackward?(result.step + 1)
            if clip > 0 { clipGradientNorm(model, maxNorm: clip) }
            optimizer.step()
            result.step += 1
            result.losses[result.step] = value
            log?.append(["type": "train", "step": result.step, "loss": value, "lr": optimizer.learningRate,
                         "seconds": Date().timeIntervalSince1970 - start])
            try afterStep?(result.step, value)
            if progressInterval > 0 {
                let perStep = (Date().timeIntervalSince1970 - start) / Double(result.step - firstStep)
                progress.update(step: result.step, loss: value, metric: "", tokensPerSecond: 1 / max(perStep, 1e-9),
                                eta: perStep * Double(steps - result.step), lr: optimizer.learningRate)
            }
            result.stoppedEarly = shouldStop?(result.step) ?? false
            let last = result.step == steps || result.stoppedEarly
            if evaluationInterval > 0 && (result.step % evaluationInterval == 0 || (evaluatesFirstStep && result.step == 1) || last) {
                try runEvaluation()
            }
            if result.step % checkpointInterval == 0 || last { try save() }
            if result.stoppedEarly { break }
        }
        return result
    }

    /// Loads the model, the optimizer and every generator from `url`; returns the step.
    private func restore(from url: URL) throws -> Int {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TrainingError("\(url.deletingLastPathComponent().path) holds no checkpoint to resume (no \(url.lastPathComponent)); start the run without resume")
        }
        let info = try Checkpoint.load(into: model, optimizer: optimizer, from: url)
        guard model.hasFiniteParameters else {
            throw CheckpointError("\(url.path) holds non-finite weights; start a new run with overwrite")
        }
        for (name, g) in generators {
            guard let seed = info.metadata["rng_\(name)_seed"].flatMap(UInt64.init),
                  let offset = info.metadata["rng_\(name)_offset"].flatMap(UInt64.init) else {
                throw CheckpointError("\(url.path) lacks the state of the random generator \"\(name)\" needed to resume; start a new run with overwrite")
            }
            var state = RandomGenerator(seed: seed).state
            state.offset = offset
            g.state = state
        }
        say("resumed from \(url.path) at step \(info.step)")
        return info.step
    }
}

extension Module {
    /// Whether every parameter is finite: the test before any checkpoint is written or loaded.
    var hasFiniteParameters: Bool { withoutGradients { parameters().allSatisfy(\.isFinite) } }
}
