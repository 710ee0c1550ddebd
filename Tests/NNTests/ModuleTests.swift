import Testing
import Tensors
@testable import NN

final class Block: Module {
    let attn = MultiHeadAttention(8, heads: 2, causal: true)
    let norm = LayerNorm(8)
    let drop = Dropout(0.5)
    func visit(_ v: inout ModuleVisitor) {
        v.child("attn", attn)
        v.child("norm", norm)
        v.child("drop", drop)
    }
}

final class Stack: Module {
    let layers = [Block(), Block()]
    let pe = SinusoidalPositionalEncoding(8)
    func visit(_ v: inout ModuleVisitor) {
        v.children("layers", layers)
        v.child("pe", pe)
    }
}

@Test func namedParametersUseDottedPaths() {
    let m = Stack()
    let names = m.namedParameters().map(\.name)
    #expect(names.contains("layers.0.attn.qkv.weight"))
    #expect(names.contains("layers.1.norm.bias"))
    #expect(names.filter { $0.hasPrefix("layers.0.") }.count == 6)
    #expect(m.namedBuffers().map(\.name) == ["pe.inverse_frequency"])
    // qkv 8·24 + 24, out 8·8 + 8, norm 16, per block; two blocks.
    #expect(m.parameterCount() == 2 * (8 * 24 + 24 + 64 + 8 + 16))
}

@Test func trainEvalReachesEveryLayer() {
    let m = Stack()
    #expect(m.isTraining)
    m.eval()
    #expect(!m.isTraining && !m.layers[1].drop.isTraining && !m.layers[0].attn.attentionDropout.isTraining)
    m.train()
    #expect(m.layers[1].drop.isTraining)
}

@Test func dtypeConversionKeepsParametersTrainable() {
    let m = Stack()
    m.convert(to: .float64)
    #expect(m.namedParameters().allSatisfy { $0.tensor.dtype == .float64 && $0.tensor.requiresGrad })
    #expect(m.namedBuffers()[0].tensor.dtype == .float64)
    #expect(m.dtype == .float64)
    let y = m.layers[0].attn(Tensor.randn([1, 3, 8], dtype: .float64))
    #expect(y.dtype == .float64)
    m.convert(to: .float32)
    #expect(m.namedParameters().allSatisfy { $0.tensor.dtype == .float32 })
}

@Test func freezingStopsGradientsAndUpdates() throws {
    let m = Sequential(Linear(3, 2), Linear(2, 1))
    m.freeze(where: { $0.hasPrefix("0.") })
    #expect(m.parameterCount(trainableOnly: true) == 3)
    #expect(m.parameterCount() == 11)
    let before = m.parameters()[0].detached().scalars
    let opt = try SGD(m, learningRate: 0.1)
    try m(Tensor.randn([4, 3])).sum().backward()
    opt.step()
    #expect(m.parameters()[0].detached().scalars == before)
    #expect(m.parameters()[2].grad != nil)
    m.zeroGrad()
    #expect(m.parameters().allSatisfy { $0.grad == nil })
    m.unfreeze()
    #expect(m.parameterCount(trainableOnly: true) == 11)
}

@Test func optimizerUpdatesKeepAutogradIdentity() throws {
    let fc = Linear(2, 2)
    let opt = try SGD(fc, learningRate: 0.5)
    let w0 = fc.weight
    try fc(Tensor.ones([1, 2])).sum().backward()
    opt.step()
    // The module's tensor and the old copy see the new values: one storage, one identity.
    #expect(fc.weight.scalars == w0.scalars)
    #expect(fc.weight.sharesStorage(with: w0))
}

@Test func loadNamesEveryProblem() {
    let m = Sequential(Linear(3, 2), Linear(2, 1))
    var state = m.stateDict()
    state["0.weight"] = Tensor.zeros([5, 3])
    state.removeValue(forKey: "1.bias")
    state["extra.weight"] = Tensor.zeros([1])
    do {
        try m.load(state)
        Issue.record("load should have failed")
    } catch {
        #expect(error.message.contains("missing: 1.bias"))
        #expect(error.message.contains("unexpected: extra.weight"))
        #expect(error.message.contains("0.weight (checkpoint [5, 3], model [2, 3])"))
    }
}

@Test func initialisersFollowTheirFans() {
    let g = RandomGenerator(seed: 1)
    let w = Initializer.pytorchDefault.make([50, 400], generator: g)
    #expect(w.requiresGrad && w.abs().max().item <= 1 / 20.0)
    let x = Initializer.xavierUniform().make([300, 100], dtype: .float64, generator: g)
    #expect(x.abs().max().item <= (6.0 / 400).squareRoot())
    let k = Initializer.kaimingNormal().make([200, 300], dtype: .float64, generator: g)
    #expect(abs(k.standardDeviation().item - (2.0 / 300).squareRoot()) < 0.002)
    // Conv weights count the kernel in both fans: [out 8, in 4, k 3] → fanIn 12, fanOut 24.
    let c = Initializer.xavierNormal().make([8, 4, 3], dtype: .float64, generator: g)
    #expect(c.shape == [8, 4, 3])
    let n = Initializer.normal(std: 0.02).make([400, 400], dtype: .float64, generator: g)
    #expect(abs(n.standardDeviation().item - 0.02) < 0.0005)
}
