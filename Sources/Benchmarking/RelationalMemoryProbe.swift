import Foundation
import DEQ
import Models
import NN
import Solvers
import Tensors

/// Runs one ``RelationalMemory`` forward and backward from a safetensors file and writes what it
/// computed to another: the entry point `Benchmarks/peers/rmc_reference.py` drives (through the
/// hidden `deq rmc-probe`) to compare the layer with the reference PyTorch port in float64.
///
/// The input file holds the reference's parameters under their `state_dict` names, `input`
/// [batch, T, inputSize] (batch-first, as the reference takes it), `memory` [batch, slots, size],
/// and the weights of the scalar loss Σ `output_weight` ⊙ outputs + Σ `memory_weight` ⊙ final
/// memory; its metadata holds the sizes (`input_size`, `mem_slots`, `head_size`, `num_heads`,
/// `num_blocks`, `key_size`, `attention_mlp_layers`, `gate_style`). The output file holds `output`
/// [T·batch, slots·size] (step-major rows, the reference's `torch.cat` of the steps), `memory`,
/// `loss`, `grad.input` and `grad.<parameter>` for every parameter.
public enum RelationalMemoryProbe {
    public static func run(reading input: URL, writingTo output: URL) throws(CheckpointError) {
        let (tensors, metadata) = try Safetensors.read(input)
        func size(_ key: String) throws(CheckpointError) -> Int {
            guard let s = metadata[key], let v = Int(s), v > 0 else {
                throw CheckpointError("\(input.path): metadata \(key) must be a positive integer, got \(metadata[key].map { "\"\($0)\"" } ?? "nothing"); write it as the peer script does")
            }
            return v
        }
        func tensor(_ name: String) throws(CheckpointError) -> Tensor {
            guard let t = tensors[name] else { throw CheckpointError("\(input.path) has no tensor \"\(name)\"; write it as the peer script does") }
            return t.to(.float64)
        }
        let style = metadata["gate_style"] ?? "unit"
        guard let gate = RelationalMemory.GateStyle(rawValue: style) else {
            throw CheckpointError("\(input.path): gate_style must be unit, memory or none, got \"\(style)\"")
        }
        let core = RelationalMemory(.init(inputSize: try size("input_size"), memorySlots: try size("mem_slots"),
                                          headSize: try size("head_size"), heads: try size("num_heads"),
                                          blocks: try size("num_blocks"), keySize: try size("key_size"),
                                          attentionMLPLayers: try size("attention_mlp_layers"), gateStyle: gate),
                                    dtype: .float64)
        try core.load(tensors.filter { core.stateDict()[$0.key] != nil }.mapValues { $0.to(.float64) })
        let x = try tensor("input").transposed(0, 1).contiguous().requiringGrad()   // [T, B, input]
        let memory = try tensor("memory")
        let (out, final) = core(x, memory: memory)
        let rows = out.reshaped([-1, core.outputSize])
        let outputWeight = try tensor("output_weight"), memoryWeight = try tensor("memory_weight")
        let loss = (rows * outputWeight).sum() + (final * memoryWeight).sum()
        core.zeroGrad()
        do { try loss.backward() } catch {
            throw CheckpointError("the backward pass failed: \(error)")
        }
        var result: [String: Tensor] = ["output": rows.detached(), "memory": final.detached(), "loss": loss.detached(),
                                        "grad.input": (x.grad ?? x.zerosLike()).transposed(0, 1).contiguous()]
        for (name, p) in core.namedParameters() { result["grad." + name] = p.grad ?? p.zerosLike() }
        try Safetensors.write(result, to: output)
    }
}
