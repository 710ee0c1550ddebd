import DEQ
import NN
import Solvers
import Models
import Tensors

/// Runs a DEQ-Transformer given in the reference's state-dict layout on the inputs of a probe, for
/// the float64/float32 comparison with locuslab/deq's own model
/// (`Benchmarks/peers/deq_transformer_reference.py`, through `deq reference-check`).
///
/// The probe holds the reference state dict under `model.` (so `model.inject_conv.weight`, ...),
/// `tokens` [windows, B, T + 1] (int64; inputs are the first T of each row, targets the last T),
/// `check_z` [B, T, d], and `check_memory_states` [B, M, d] / `check_memory_injections` [B, M, 3d]
/// when the memory is used. Its metadata holds `vocabulary`, the architecture options (the
/// reference's names, as `deq train --config` takes them) and `tolerance`, the solver's relative
/// stopping tolerance. The result holds, in the probe's dtype:
/// - `f_check`: f(check_z) on window 0 without memory (one application of f);
/// - `f_check_memory`: f(check_z) on window 1 with the check memory (when there is memory);
/// - `fixed_points` [windows, B, T, d]: z* of each window, carrying the memory from window to window;
/// - `losses` [windows]: the mean negative log-likelihood of each window's targets;
/// - `forward_iterations` and `forward_residuals` [windows]: the solver's statistics.
public enum DEQTransformerReferenceCheck {
    static let architectureKeys = DEQTransformerLM.optionKeys.filter { !["solver", "tolerance", "jac-loss-weight"].contains($0) }

    public static func run(probe: [String: Tensor], metadata: [String: String]) throws(ModelError) -> [String: Tensor] {
        guard let vocabulary = metadata["vocabulary"].flatMap(Int.init) else {
            throw ModelError("reference-check: the probe's metadata must give vocabulary")
        }
        guard let tokens = probe["tokens"], tokens.rank == 3, tokens.dtype == .int64, let checkZ = probe["check_z"] else {
            throw ModelError("reference-check: the probe needs tokens [windows, batch, length + 1] (int64) and check_z [batch, length, d]")
        }
        let stateDict = Dictionary(uniqueKeysWithValues: probe.compactMap { k, v in
            k.hasPrefix("model.") ? (String(k.dropFirst("model.".count)), v) : nil
        })
        let options = metadata.filter { architectureKeys.contains($0.key) }
        let model = try DEQTransformerLM.fromReference(stateDict: stateDict, vocabularySize: vocabulary, options: options)
        let tolerance = metadata["tolerance"].flatMap(Double.init) ?? 1e-12
        model.deq.options = DEQOptions(forwardSolver: .anderson(window: 5), forwardIterations: 500, forwardTolerance: tolerance,
                                       stopMode: .relative, onFailure: .ignore)
        model.eval()
        let length = tokens.shape[2] - 1
        func window(_ w: Int) -> (inputs: Tensor, targets: Tensor) {
            let rows = tokens.sliced(0, w, w + 1).reshaped([tokens.shape[1], length + 1])
            return (rows.sliced(1, 0, length).contiguous(), rows.sliced(1, 1).contiguous())
        }
        var out: [String: Tensor] = [:]
        withoutGradients {
            out["f_check"] = model.equilibriumMap(memory: nil)(checkZ, model.injections(window(0).inputs))
            if let states = probe["check_memory_states"], let injections = probe["check_memory_injections"], tokens.shape[0] > 1 {
                let u = Tensor.concat([injections, model.injections(window(1).inputs)], axis: 1)
                out["f_check_memory"] = model.equilibriumMap(memory: states)(checkZ, u)
            }
        }
        var memory: DEQTransformerLM.Memory?
        var fixedPoints: [Tensor] = [], losses: [Double] = [], iterations: [Double] = [], residuals: [Double] = []
        for w in 0..<tokens.shape[0] {
            let (inputs, targets) = window(w)
            let result: (hidden: Tensor, memory: DEQTransformerLM.Memory)
            do { result = try withoutGradients { () throws(DEQError) in try model.hidden(inputs, memory: memory) } } catch {
                throw ModelError("reference-check: the solve of window \(w) failed: \(error)")
            }
            let loss = withoutGradients { model.softmax(result.hidden, targets: targets.reshaped([-1])).loss }
            fixedPoints.append(result.hidden.unsqueezed(0))
            losses.append(loss.item)
            iterations.append(Double(model.deq.lastStats?.forwardIterations ?? 0))
            residuals.append(model.deq.lastStats?.forwardRelativeResidual ?? 0)
            memory = result.memory
        }
        out["fixed_points"] = Tensor.concat(fixedPoints, axis: 0)
        out["losses"] = Tensor(losses).to(checkZ.dtype)
        out["forward_iterations"] = Tensor(iterations)
        out["forward_residuals"] = Tensor(residuals)
        return out.mapValues { $0.detached().contiguous() }
    }
}
