import Foundation
import Testing
import Tensors
@testable import NN

/// A tiny LSTM language model with variational dropout drawn from a given generator.
final class TinyLM: Module {
    let emb = Embedding(12, 8)
    let lstm = LSTM(8, 8, layers: 1)
    let drop: VariationalDropout
    let out = Linear(8, 12)
    init(generator: RandomGenerator) { drop = VariationalDropout(0.2, generator: generator) }
    func visit(_ v: inout ModuleVisitor) {
        v.child("emb", emb); v.child("lstm", lstm); v.child("drop", drop); v.child("out", out)
    }
    func loss(_ tokens: Tensor) -> Tensor {
        let t = tokens.shape[0]
        let h = drop(lstm(emb(tokens.sliced(0, 0, t - 1))).output)
        return crossEntropy(out(h).reshaped([-1, 12]), tokens.sliced(0, 1, t).contiguous().reshaped([-1]))
    }
}

func train(_ m: TinyLM, _ opt: Optimizer, steps: Int, data: Tensor) throws -> [Double] {
    var losses: [Double] = []
    for _ in 0..<steps {
        opt.zeroGrad()
        let l = m.loss(data)
        try l.backward()
        clipGradientNorm(m, maxNorm: 1)
        opt.step()
        losses.append(l.item)
    }
    return losses
}

@Test func trainingLowersTheLossAndResumesBitExactly() throws {
    let data = Tensor((0..<40).map { $0 % 5 }, shape: [10, 4])     // a periodic sequence
    let gen = RandomGenerator(seed: 5)
    RandomGenerator.manualSeed(11)
    let model = TinyLM(generator: gen)
    let opt = try Adam(model, learningRate: 0.03)
    let first = try train(model, opt, steps: 30, data: data)
    #expect(first.last! < first.first! * 0.7)

    let url = scratchDirectory().appendingPathComponent("lm.safetensors")
    try Checkpoint.save(model: model, optimizer: opt, step: 30, generator: gen, to: url)
    let continued = try train(model, opt, steps: 5, data: data)

    let gen2 = RandomGenerator(seed: 999)
    let resumed = TinyLM(generator: gen2)
    let opt2 = try Adam(resumed, learningRate: 1)
    let info = try Checkpoint.load(into: resumed, optimizer: opt2, generator: gen2, from: url)
    #expect(info.step == 30)
    let replay = try train(resumed, opt2, steps: 5, data: data)
    #expect(replay == continued)
    for ((n, a), (_, b)) in zip(model.namedParameters(), resumed.namedParameters()) {
        #expect(bits(a) == bits(b), "\(n) differs after resuming")
    }
}
