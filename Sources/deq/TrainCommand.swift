import ArgumentParser
import Distributed
import Foundation
import Tensors
import Training

/// `deq train`: trains a model on a corpus, writing checkpoints, log.jsonl and TensorBoard
/// events in the run directory.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model (checkpoints, JSON-lines log and TensorBoard events in --work-dir).",
        discussion: """
        Settings come from the defaults, then --preset (a built-in <model>-<preset>; `deq presets` lists them), then --config FILE \
        (YAML or JSON with the flag names as keys), then the flags. Ctrl-C or SIGTERM saves \
        last.safetensors; --resume continues from it bit-exactly. A run directory holds one run: \
        an existing one is refused without --resume (or --overwrite), and one in use by another \
        deq train is refused. Under mpirun (or srun) each rank trains on its share of --batch-size and \
        rank 0 alone writes; see Docs/Distributed.md.
        """
    )

    @OptionGroup var options: RunOptions
    @Flag(help: "Continue from last.safetensors in --work-dir (its settings, overridden by the flags given).")
    var resume = false
    @Flag(help: "Replace the run already in --work-dir (its checkpoints, log and events are removed).")
    var overwrite = false

    func validate() throws {
        if resume && overwrite { throw ValidationError("--resume continues the run in --work-dir and --overwrite replaces it; pass one of them") }
    }

    func run() throws {
        // Progress lines reach a redirected log (a scheduler's output file) line by line.
        StandardOutput.makeLineBuffered()
        var c = try options.configuration()
        if resume {
            let ckpt = try RunCheckpoint.read(URL(fileURLWithPath: c.workDir).appendingPathComponent("last.safetensors"))
            if let asked = options.given["model"], asked != ckpt.modelName {
                throw TrainingError("\(ckpt.url.path) holds a \(ckpt.modelName) model, not \(asked); pass --model \(ckpt.modelName) or start a new run in another --work-dir")
            }
            var saved = ckpt.configuration
            saved["work-dir"] = c.workDir
            c = try options.configuration(base: saved)
        }
        let corpus = try loadCorpus(dataset: c.dataset, data: c.data, vocabularySplit: c.vocabularySplit)
        let trainer = Trainer(configuration: c, corpus: corpus)
        if Communicator.launchedByLauncher {
            guard let world = Communicator.world else {
                throw DistributedError("launched by an MPI launcher but MPI_Init failed; check the MPI installation (Debian: libopenmpi-dev openmpi-bin) or run without mpirun")
            }
            if world.size > 1 { trainer.group = world }
            guard world.isRoot else { _ = try trainer.run(resume: resume, overwrite: overwrite); return }
        }
        let result = try trainer.run(resume: resume, overwrite: overwrite)
        let metric = MetricKind(corpus: corpus)
        if let final = result.evaluations.last, !result.interrupted {
            print(String(format: "final %@ loss %.4f (%@ %.3f) at step %d", c.resolvedEvalSplit, final.loss, metric.rawValue, metric.value(loss: final.loss), final.step))
        }
        if let best = result.bestLoss {
            print(String(format: "best %@ loss %.4f (%@ %.3f); checkpoints in %@", c.resolvedEvalSplit, best, metric.rawValue, metric.value(loss: best), c.workDir))
        }
        // 130 after Ctrl-C, 143 after SIGTERM: what a shell reports for a process those signals end.
        if result.interrupted { throw ExitCode(128 + (Interrupt.signalNumber == 0 ? SIGINT : Interrupt.signalNumber)) }
    }
}
