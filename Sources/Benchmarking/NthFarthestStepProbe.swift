import Foundation
import Datasets
import Models
import NN
import Tensors
import Training

/// Runs a few training steps of the N-th farthest task exactly as ``NthFarthestTraining`` runs
/// them (the same initial model, the same batches, the same trainer: `model.loss`, backward,
/// global-norm clipping, Adam) and writes what goes in and what comes out: the entry point
/// `Benchmarks/peers/nth_farthest_reference.py` drives (through the hidden
/// `deq rmc-probe --nth-farthest`) to compare the whole training step with the PyTorch port's.
///
/// The setup file holds the initial parameters under the port's `RRNN` `state_dict` names
/// (`relational_memory.…`, `mlp.0.…`, `mlp.2.…`, `out.…`; the reference's shared attention-MLP
/// Linear once, as `relational_memory.attention_mlp.0`), and for each step k = 1…K the batch
/// `input.k` [batch, vectors, features] (batch-first, as the port takes it) and `target.k` (int64
/// [batch]), all in the run's dtype. The result file holds, in float64 (exact for float32 runs),
/// `loss` [K], `grad_norm` [K] (the global gradient norm before clipping), `scores.k` (the model's
/// softmax output of step k), `grad.<name>` (step 1's gradients before clipping) and
/// `step<k>.<name>` (the parameters after step k).
public enum NthFarthestStepProbe {
    public struct Report {
        public var losses: [Double]
        public var gradientNorms: [Double]
        public var parameterCount: Int
    }

    /// Runs `steps` steps of `s` (its seed, batch size, learning rate and clip) in `dtype`.
    public static func run(_ s: NthFarthestSettings, dtype: DType, steps: Int,
                           writingSetupTo setupURL: URL, resultsTo resultURL: URL) throws -> Report {
        guard steps >= 1 else { throw ConfigurationError("the probe needs at least 1 step, got \(steps)") }
        guard dtype == .float32 || dtype == .float64 else {
            throw ConfigurationError("the probe runs in float32 or float64, not \(dtype)")
        }
        let model = NthFarthestTraining.initialModel(s, dtype: dtype)
        let data = NthFarthestTraining.dataGenerator(s)
        let batches = try (0..<steps).map { _ in try NthFarthestTraining.trainingBatch(s, generator: data, dtype: dtype) }

        var setup = model.stateDict()
        for (k, b) in batches.enumerated() {
            setup["input.\(k + 1)"] = b.input.transposed(0, 1).contiguous()
            setup["target.\(k + 1)"] = b.target
        }
        let core = s.model.core
        let metadata = ["dtype": "\(dtype)", "seed": "\(s.seed)", "steps": "\(steps)", "batch": "\(s.batchSize)",
                        "lr": "\(s.learningRate)", "clip": "\(s.clip)", "mem_slots": "\(core.memorySlots)",
                        "head_size": "\(core.headSize)", "num_heads": "\(core.heads)", "key_size": "\(core.keySize)",
                        "num_blocks": "\(core.blocks)", "attention_mlp_layers": "\(core.attentionMLPLayers)",
                        "mlp_size": "\(s.model.mlpSize)", "mlp_layers": "\(s.model.mlpLayers)", "classes": "\(s.model.classes)"]
        try Safetensors.write(setup, metadata: metadata, to: setupURL)

        // Copies in float64: parameters are updated in place, so a view would change under us.
        func snapshot(_ t: Tensor) -> Tensor { Tensor(t.toArray(Double.self), shape: t.shape) }
        var result: [String: Tensor] = [:]
        var losses: [Double] = [], norms: [Double] = []
        let trainer = try NthFarthestTraining.trainer(for: model, s)
        trainer.checkpointInterval = steps
        trainer.afterBackward = { step in
            var squares = 0.0
            for (name, p) in model.namedParameters() {
                let g = snapshot(p.grad ?? p.zerosLike())
                squares += g.square().sum().item
                if step == 1 { result["grad." + name] = g }
            }
            norms.append(squares.squareRoot())
        }
        trainer.afterStep = { step, loss in
            losses.append(loss)
            for (name, p) in model.namedParameters() { result["step\(step).\(name)"] = snapshot(p) }
        }
        try trainer.run(steps: steps) { step in
            let batch = batches[step - 1]
            let (loss, scores) = model.loss(batch.input, targets: batch.target)
            result["scores.\(step)"] = snapshot(scores)
            return loss
        }
        result["loss"] = Tensor(losses, shape: [steps])
        result["grad_norm"] = Tensor(norms, shape: [steps])
        try Safetensors.write(result, metadata: metadata, to: resultURL)
        return Report(losses: losses, gradientNorms: norms, parameterCount: model.parameterCount())
    }
}
