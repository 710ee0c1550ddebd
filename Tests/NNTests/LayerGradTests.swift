import Foundation
import Testing
import Tensors
@testable import NN

@Test func linearGradchecks() throws {
    let fc = Linear(3, 4)
    let r = try gradcheckModule(fc, inputs: [randn64([2, 5, 3])]) { fc($0[0]) }
    #expect(r.passed, "\(r)")
}

@Test func embeddingGradchecks() throws {
    let emb = Embedding(5, 3)
    let tokens = Tensor([0, 4, 4, 2, 1, 0] as [Int], shape: [2, 3])
    let r = try gradcheckModule(emb) { _ in emb(tokens) }
    #expect(r.passed, "\(r)")
    #expect(emb(tokens).shape == [2, 3, 3])
}

@Test func layerNormGradchecks() throws {
    let ln = LayerNorm(4)
    initialize(ln.weight!, with: .normal(std: 1))
    initialize(ln.bias!, with: .normal(std: 1))
    let r = try gradcheckModule(ln, inputs: [randn64([3, 4])]) { ln($0[0]) }
    #expect(r.passed, "\(r)")
}

@Test func dropoutGradchecksWithAFixedMaskAndIsIdentityInEval() throws {
    let d = Dropout(0.4)
    let r = try gradcheckModule(d, inputs: [randn64([4, 5])]) { xs in
        d.generator = RandomGenerator(seed: 9)   // the same mask at every probe
        return d(xs[0])
    }
    #expect(r.passed, "\(r)")
    let x = Tensor.ones([1000])
    let y = d(x).scalars
    #expect(Set(y.map { ($0 * 1e4).rounded() }).isSubset(of: [0, (1e4 / 0.6).rounded()]))
    #expect(abs(y.reduce(0, +) / 1000 - 1) < 0.15)
    d.eval()
    #expect(d(x).scalars == x.scalars)
}

@Test func variationalDropoutSharesAndHoldsItsMask() throws {
    let d = VariationalDropout(0.5, timeAxis: 0, holdsMask: true)
    let x = Tensor.ones([6, 3, 4], dtype: .float64)
    let y1 = d(x)
    // One mask over time: every step equals the first.
    for t in 1..<6 { #expect(y1.select(0, t).scalars == y1.select(0, 0).scalars) }
    #expect(d(x).scalars == y1.scalars)          // held across calls (a DEQ's solver iterations)
    let r = try gradcheckModule(d, inputs: [randn64([3, 2, 4])]) { d($0[0]) }
    #expect(r.passed, "\(r)")
    d.resetMask()
    var changed = false
    for _ in 0..<5 { d.resetMask(); if d(x).scalars != y1.scalars { changed = true } }
    #expect(changed)
    d.holdsMask = false
    let a = d(x).scalars, b = d(x).scalars
    #expect(a != b)
}

@Test func weightNormGradchecksAndReparametrises() throws {
    let wn = WeightNorm(Linear(3, 2))
    #expect(wn.namedParameters().map(\.name) == ["g", "v", "inner.bias"])
    let x = randn64([4, 3])
    // At initialisation w = g v/‖v‖ equals the original weight.
    wn.convert(to: .float64)
    let r = try gradcheckModule(wn, inputs: [x]) { wn($0[0]) }
    #expect(r.passed, "\(r)")
    let w = wn.inner.weight
    let rowNorms = w.square().sum(axis: 1).sqrt()
    #expect(maxAbsDiff(rowNorms, wn.g.reshaped([2])) < 1e-12)
}

@Test func conv1dGradchecksAndIsCausal() throws {
    let conv = Conv1d(2, 3, kernelSize: 2, dilation: 2)
    let x = randn64([2, 2, 5])
    let r = try gradcheckModule(conv, inputs: [x]) { conv($0[0]) }
    #expect(r.passed, "\(r)")
    // Direct formula: y[b, o, t] = bias[o] + Σ_c Σ_j w[o, c, j] x[b, c, t − (k−1−j)·d].
    let y = conv(x)
    let w = conv.weight, bias = conv.bias!
    for b in 0..<2 { for o in 0..<3 { for t in 0..<5 {
        var s = bias.value(at: [o])
        for c in 0..<2 { for j in 0..<2 {
            let src = t - (1 - j) * 2
            if src >= 0 { s += w.value(at: [o, c, j]) * x.value(at: [b, c, src]) }
        } }
        #expect(abs(y.value(at: [b, o, t]) - s) < 1e-12)
    } } }
    var future = x
    future.setValue(100, at: [0, 0, 4])
    #expect(maxAbsDiff(conv(future).sliced(2, 0, 4), y.sliced(2, 0, 4)) == 0)
}

@Test func lstmGradchecksAndMatchesTheCellEquations() throws {
    let lstm = LSTM(3, 3, layers: 2)
    let x = randn64([3, 2, 3])
    let r = try gradcheckModule(lstm, inputs: [x]) { lstm($0[0]).output }
    #expect(r.passed, "\(r)")
    // One step of layer 0 against the textbook equations.
    let cell = lstm.cells[0]
    let h0 = randn64([2, 3], seed: 4), c0 = randn64([2, 3], seed: 5)
    let (h, c) = cell(x.select(0, 0), state: (h0, c0))
    let z = x.select(0, 0).matmul(cell.weightIH.T) + h0.matmul(cell.weightHH.T) + cell.biasIH + cell.biasHH
    let i = z.sliced(1, 0, 3).sigmoid(), f = z.sliced(1, 3, 6).sigmoid()
    let g = z.sliced(1, 6, 9).tanh(), o = z.sliced(1, 9, 12).sigmoid()
    let cRef = f * c0 + i * g
    #expect(maxAbsDiff(c, cRef) < 1e-12)
    #expect(maxAbsDiff(h, o * cRef.tanh()) < 1e-12)
}

@Test("the fused recurrence: outputs, final states and all gradients as stepping the cell, gradchecks of every input and state, second derivatives")
func lstmRecurrenceMatchesStepsAndGradchecks() throws {
    let lstm = LSTM(3, 4, layers: 2, dtype: .float64)
    let x = randn64([5, 2, 3], seed: 7)
    let states = [(randn64([2, 4], seed: 8), randn64([2, 4], seed: 9)), (randn64([2, 4], seed: 10), randn64([2, 4], seed: 11))]
    let weights = randn64([5, 2, 4], seed: 12), hw = randn64([2, 4], seed: 13), cw = randn64([2, 4], seed: 14)
    // A loss that reads every output and both final states of every layer.
    func loss(_ out: Tensor, _ finals: [(h: Tensor, c: Tensor)]) -> Tensor {
        finals.reduce((out * weights).sum()) { $0 + ($1.h * hw).sum() + ($1.c * cw).square().sum() }
    }
    // The reference: the same layers stepped one cell call at a time, recorded op by op.
    func stepped() -> Tensor {
        var input = x
        var finals: [(h: Tensor, c: Tensor)] = []
        for (l, cell) in lstm.cells.enumerated() {
            let gx = cell.inputGates(input)
            var s = (h: states[l].0, c: states[l].1)
            var outs: [Tensor] = []
            for t in 0..<5 { s = cell.step(inputGates: gx.select(0, t), state: s); outs.append(s.h) }
            input = Tensor.stack(outs, axis: 0)
            finals.append(s)
        }
        return loss(input, finals)
    }
    let params = lstm.parameters()
    let (out, finals) = lstm(x, state: states.map { (h: $0.0, c: $0.1) })
    let fused = try grad(of: loss(out, finals), wrt: params)
    let reference = try grad(of: stepped(), wrt: params)
    #expect(abs(loss(out, finals).item - stepped().item) < 1e-12)
    for (a, b) in zip(fused, reference) { #expect(maxAbsDiff(a, b) < 1e-12) }
    // Every input and initial state, first and second order (the recorded backward).
    let f: ([Tensor]) -> Tensor = { xs in
        let (o, fs) = lstm(xs[0], state: [(h: xs[1], c: xs[2]), (h: xs[3], c: xs[4])])
        return loss(o, fs)
    }
    let inputs = [x, states[0].0, states[0].1, states[1].0, states[1].1]
    let first = try gradcheck(f, inputs: inputs)
    #expect(first.passed, "\(first)")
    let second = try gradgradcheck(f, inputs: inputs)
    #expect(second.passed, "\(second)")
}

@Test func attentionGradchecksWithCausalMaskMemoryAndRelativePositions() throws {
    let attn = MultiHeadAttention(4, heads: 2, causal: true, relative: true)
    let x = randn64([2, 3, 4]), mem = randn64([2, 2, 4], seed: 3)
    let r = try gradcheckModule(attn, inputs: [x, mem]) { attn($0[0], memory: $0[1]) }
    #expect(r.passed, "\(r)")
    let plain = MultiHeadAttention(4, heads: 2, causal: true)
    let r2 = try gradcheckModule(plain, inputs: [x]) { plain($0[0]) }
    #expect(r2.passed, "\(r2)")
    // Causality: changing the last token leaves earlier outputs unchanged.
    var later = x
    later.setValue(50, at: [0, 2, 1])
    #expect(maxAbsDiff(attn(later, memory: mem).sliced(1, 0, 2), attn(x, memory: mem).sliced(1, 0, 2)) < 1e-12)
    #expect(maxAbsDiff(plain(later).sliced(1, 0, 2), plain(x).sliced(1, 0, 2)) < 1e-12)
}

@Test func relativeShiftAlignsDistances() {
    // Slot s of query i holds distance K−1−s; after the shift, (i, j) must hold distance m + i − j.
    let (q, m) = (3, 2), k = q + m
    var scores = Tensor.zeros([q, k], dtype: .float64)
    for i in 0..<q { for s in 0..<k { scores.setValue(Double(k - 1 - s), at: [i, s]) } }
    let shifted = MultiHeadAttention.relativeShift(scores)
    for i in 0..<q { for j in 0...(m + i) {
        #expect(shifted.value(at: [i, j]) == Double(m + i - j))
    } }
}

@Test func transformerLayerGradchecks() throws {
    let layer = TransformerEncoderLayer(4, heads: 2, feedForward: 6)
    let r = try gradcheckModule(layer, inputs: [randn64([2, 3, 4])]) { layer($0[0]) }
    #expect(r.passed, "\(r)")
}

@Test func sequentialGradchecks() throws {
    let s = Sequential(Linear(3, 4), Activation.tanh, Linear(4, 2))
    #expect(s.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
    let r = try gradcheckModule(s, inputs: [randn64([2, 3])]) { s($0[0]) }
    #expect(r.passed, "\(r)")
}

@Test func adaptiveEmbeddingGradchecks() throws {
    let emb = AdaptiveEmbedding(10, 4, cutoffs: [4, 7], divisor: 2)
    #expect(emb.embeddings.map(\.dimension) == [4, 2, 1])
    let tokens = Tensor([0, 5, 9, 3, 8, 6] as [Int], shape: [2, 3])
    let r = try gradcheckModule(emb) { _ in emb(tokens) }
    #expect(r.passed, "\(r)")
    // Token 5 is in cluster 1: its row is proj₁(emb₁[5 − 4]) · √4.
    let direct = emb.projections[1](emb.embeddings[1](Tensor([1] as [Int]))) * 2
    #expect(maxAbsDiff(emb(tokens).select(0, 0).select(0, 1), direct.reshaped([4])) < 1e-12)
}

@Test func adaptiveLogSoftmaxGradchecksAndNormalises() throws {
    let out = AdaptiveLogSoftmax(4, vocabulary: 10, cutoffs: [4, 7], divisor: 2)
    let h = randn64([5, 4])
    let targets = Tensor([0, 5, 9, 3, 8] as [Int])
    let r = try gradcheckModule(out, inputs: [h]) { out($0[0], targets: targets).loss }
    #expect(r.passed, "\(r)")
    let full = out.logProbabilities(h)
    #expect(maxAbsDiff(full.exp().sum(axis: 1), Tensor.ones([5], dtype: .float64)) < 1e-12)
    let picked = full.gather(axis: 1, targets.reshaped([5, 1])).reshaped([5])
    #expect(maxAbsDiff(out(h, targets: targets).logProbs, picked) < 1e-12)
}

@Test func sinusoidalEncodingMatchesItsFormula() {
    let pe = SinusoidalPositionalEncoding(6, dtype: .float64)
    let e = pe.encoding(length: 4)
    for p in 0..<4 { for i in 0..<3 {
        let w = 1 / pow(10000, Double(2 * i) / 6)
        #expect(abs(e.value(at: [p, i]) - sin(Double(p) * w)) < 1e-12)
        #expect(abs(e.value(at: [p, 3 + i]) - cos(Double(p) * w)) < 1e-12)
    } }
}

@Test func weightNormCanHoldItsWeightBetweenResets() throws {
    let wn = WeightNorm(Linear(3, 2), recomputesEachCall: false)
    let x = Tensor.randn([1, 3])
    let y0 = wn(x)
    wn.g.assign(wn.g * 2)                       // as an optimizer step would
    #expect(wn(x).scalars == y0.scalars)        // held (a DEQ solver's iterations see one function)
    wn.reset()
    #expect(wn(x).scalars != y0.scalars)
    wn.convert(to: .float64)
    #expect(wn(x.to(.float64)).dtype == .float64)
}

@Test func reZeroStartsAsIdentityAndGradchecks() throws {
    let block = ReZero(Sequential(Linear(3, 3), Activation.tanh))
    let x = Tensor.randn([2, 3])
    #expect(block(x).scalars == x.scalars)
    block.alpha.assign(Tensor(0.7))
    let r = try gradcheckModule(block, inputs: [randn64([2, 3])]) { block($0[0]) }
    #expect(r.passed, "\(r)")
}

@Test func adaptiveSpanMaskGradchecksAndCutsFarKeys() throws {
    let span = AdaptiveSpanMask(heads: 2, maxSpan: 8, ramp: 2, initial: 0.3)
    let d = AdaptiveSpanMask.distances(queries: 3, memory: 4, dtype: .float64)
    // z·S = 2.4: distance 0..2 → 1, 3 → 0.7, 4 → 0.2, ≥ 5 → 0.
    let m = span.mask(distances: d).to(.float64)
    #expect(abs(m.value(at: [0, 2, 6]) - 1) < 1e-6 && abs(m.value(at: [0, 2, 3]) - 0.7) < 1e-6)
    #expect(abs(m.value(at: [1, 0, 0]) - 0.2) < 1e-6 && m.value(at: [1, 2, 0]) == 0)
    span.ratio.assign(Tensor([0.3, 0.45], shape: [2, 1, 1]))   // keep the ramp ends off the grid (kinks)
    let probs = randn64([1, 2, 3, 7]).softmax(axis: -1)
    let r = try gradcheckModule(span, inputs: [probs]) { span($0[0], distances: d) }
    #expect(r.passed, "\(r)")
    span.ratio.assign(Tensor([1.7, -0.2], shape: [2, 1, 1]))
    span.clampRatios()
    #expect(span.ratio.scalars == [1, 0])
}

@Test func allAttentionPersistentMemoryGradchecks() throws {
    let attn = MultiHeadAttention(4, heads: 2, causal: true, relative: true, persistentVectors: 3)
    #expect(attn.namedParameters().map(\.name).suffix(2) == ["persistent_key", "persistent_value"])
    let x = randn64([2, 3, 4]), mem = randn64([2, 1, 4], seed: 3)
    let r = try gradcheckModule(attn, inputs: [x, mem]) { attn($0[0], memory: $0[1]) }
    #expect(r.passed, "\(r)")
    var later = x
    later.setValue(50, at: [1, 2, 0])
    #expect(maxAbsDiff(attn(later, memory: mem).sliced(1, 0, 2), attn(x, memory: mem).sliced(1, 0, 2)) < 1e-12)
}
