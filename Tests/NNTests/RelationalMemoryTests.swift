import Foundation
import Testing
import Tensors
@testable import NN

/// A small core with every feature on: two blocks, keys narrower than values, a three-layer MLP.
private func smallCore(slots: Int, gate: RelationalMemory.GateStyle, shared: Bool = true) -> RelationalMemory {
    RandomGenerator.manualSeed(UInt64(10 * slots + gate.rawValue.count))
    let core = RelationalMemory(.init(inputSize: 3, memorySlots: slots, headSize: 2, heads: 2, blocks: 2, keySize: 3,
                                      attentionMLPLayers: 3, gateStyle: gate, sharedMLPWeight: shared), dtype: .float64)
    // Layer norms away from (1, 0), so that their gradients are not special cases.
    for norm in [core.qkvNorm, core.attendedNorm, core.attendedNorm2] {
        initialize(norm.weight, with: .normal(std: 1))
        initialize(norm.bias, with: .normal(std: 1))
    }
    return core
}

@Test(arguments: [(1, RelationalMemory.GateStyle.unit), (1, .memory), (4, .unit), (4, .memory), (2, .none)])
func relationalMemoryGradchecks(slots: Int, gate: RelationalMemory.GateStyle) throws {
    let core = smallCore(slots: slots, gate: gate)
    let x = randn64([2, 2, 3], seed: 4)
    let m0 = core.initialState(batch: 2, dtype: .float64) + randn64([2, slots, 4], seed: 5) * 0.3
    let r = try gradcheckModule(core, inputs: [x, m0]) { xs in core(xs[0], memory: xs[1]).output }
    #expect(r.passed, "\(r)")
}

@Test func relationalMemoryGradchecksWithUnsharedMLPWeights() throws {
    let core = smallCore(slots: 2, gate: .unit, shared: false)
    #expect(core.attentionMLP.count == 3)
    let r = try gradcheckModule(core, inputs: [randn64([2, 2, 3], seed: 6)]) { xs in
        core(xs[0], memory: core.initialState(batch: 2, dtype: .float64)).output
    }
    #expect(r.passed, "\(r)")
}

@Test func relationalMemoryHasTheReferenceParameterNamesAndShapes() {
    let core = RelationalMemory(.init(inputSize: 5, memorySlots: 4, headSize: 6, heads: 2, keySize: 3, attentionMLPLayers: 3,
                                      gateStyle: .memory))
    let shapes = Dictionary(uniqueKeysWithValues: core.namedParameters().map { ($0.name, $0.tensor.shape) })
    #expect(core.namedParameters().map(\.name) == [
        "qkv_projector.weight", "qkv_projector.bias", "qkv_layernorm.weight", "qkv_layernorm.bias",
        "attention_mlp.0.weight", "attention_mlp.0.bias",
        "attended_memory_layernorm.weight", "attended_memory_layernorm.bias",
        "attended_memory_layernorm2.weight", "attended_memory_layernorm2.bias",
        "input_projector.weight", "input_projector.bias",
        "input_gate_projector.weight", "input_gate_projector.bias",
        "memory_gate_projector.weight", "memory_gate_projector.bias", "forget_bias", "input_bias"])
    #expect(shapes["qkv_projector.weight"] == [2 * (3 + 3 + 6), 12])
    #expect(shapes["qkv_layernorm.weight"] == [5, 24])
    #expect(shapes["attended_memory_layernorm2.bias"] == [5, 12])
    #expect(shapes["memory_gate_projector.weight"] == [2, 12])   // one gate per slot, input and forget
    #expect(shapes["forget_bias"] == [])
}

@Test func relationalMemoryStartsFromThePaddedOrCutIdentity() {
    let wide = RelationalMemory(.init(inputSize: 2, memorySlots: 2, headSize: 3)).initialState(batch: 2)
    #expect(wide.shape == [2, 2, 3])
    #expect(wide.select(0, 1).scalars == [1, 0, 0, 0, 1, 0])
    let narrow = RelationalMemory(.init(inputSize: 2, memorySlots: 3, headSize: 2)).initialState(batch: 1)
    #expect(narrow.scalars == [1, 0, 0, 1, 0, 0])
}

@Test func relationalMemoryCarriesItsMemoryLikeAnLSTMState() {
    // Two windows with the memory carried equal one window over the whole sequence.
    let core = smallCore(slots: 2, gate: .unit)
    let x = randn64([5, 3, 3], seed: 7)
    let m0 = core.initialState(batch: 3, dtype: .float64)
    let whole = core(x, memory: m0)
    let first = core(x.sliced(0, 0, 2), memory: m0)
    let second = core(x.sliced(0, 2), memory: first.memory.detached())
    #expect(maxAbsDiff(Tensor.concat([first.output, second.output], axis: 0), whole.output) < 1e-13)
    #expect(maxAbsDiff(second.memory, whole.memory) < 1e-13)
    #expect(whole.output.shape == [5, 3, 2 * 4])
}
