import Testing
import Tensors
@testable import NN

@Test func crossEntropyMatchesLogSoftmaxAndGradchecks() throws {
    let x = randn64([4, 5])
    let t = Tensor([1, 0, 4, 2] as [Int])
    let ref = -x.logSoftmax(axis: 1).gather(axis: 1, t.reshaped([4, 1])).mean()
    #expect(abs(crossEntropy(x, t).item - ref.item) < 1e-12)
    let r = try gradcheck({ crossEntropy($0[0], t) }, inputs: [x])
    #expect(r.passed, "\(r)")
}

@Test func crossEntropyIgnoresAndSmooths() throws {
    let x = randn64([4, 5])
    let t = Tensor([1, -100, 4, 2] as [Int])
    let eps = 0.1
    let ls = x.logSoftmax(axis: 1)
    var total = 0.0
    for (row, c) in [(0, 1), (2, 4), (3, 2)] {
        let lp = ls.select(0, row).scalars
        total += -(1 - eps) * lp[c] - eps * lp.reduce(0, +) / 5
    }
    let loss = crossEntropy(x, t, ignoreIndex: -100, labelSmoothing: eps)
    #expect(abs(loss.item - total / 3) < 1e-12)
    let r = try gradcheck({ crossEntropy($0[0], t, ignoreIndex: -100, labelSmoothing: eps) }, inputs: [x])
    #expect(r.passed, "\(r)")
    let rs = try gradcheck({ crossEntropy($0[0], t, ignoreIndex: -100, reduction: .none) }, inputs: [x])
    #expect(rs.passed, "\(rs)")
}

@Test func nllGradchecks() throws {
    let x = randn64([3, 4])
    let t = Tensor([3, 0, -1] as [Int])
    let loss = nllLoss(x, t, ignoreIndex: -1)
    #expect(abs(loss.item - -(x.value(at: [0, 3]) + x.value(at: [1, 0])) / 2) < 1e-12)
    let r = try gradcheck({ nllLoss($0[0], t, ignoreIndex: -1) }, inputs: [x])
    #expect(r.passed, "\(r)")
}

@Test func mseGradchecks() throws {
    let (a, b) = (randn64([3, 4]), randn64([3, 4], seed: 2))
    #expect(abs(mseLoss(a, b).item - (a - b).square().mean().item) < 1e-12)
    let r = try gradcheck({ mseLoss($0[0], $0[1]) }, inputs: [a, b])
    #expect(r.passed, "\(r)")
}

@Test func binaryCrossEntropyWithLogitsGradchecksAndIsStable() throws {
    let x = randn64([3, 4]) * 3
    let y = Tensor.rand([3, 4], dtype: .float64, generator: RandomGenerator(seed: 3))
    let p = x.sigmoid()
    let ref = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    #expect(abs(binaryCrossEntropyWithLogits(x, y).item - ref.item) < 1e-12)
    let r = try gradcheck({ binaryCrossEntropyWithLogits($0[0], $0[1]) }, inputs: [x, y])
    #expect(r.passed, "\(r)")
    let big = binaryCrossEntropyWithLogits(Tensor([800.0, -800.0]), Tensor([0.0, 1.0]), reduction: .none)
    #expect(big.scalars == [800, 800])
}

@Test func crossEntropyAndLinearHaveSecondDerivatives() throws {
    // createGraph takes the differentiable backward paths of the fused ops.
    let x = randn64([3, 4])
    let t = Tensor([1, 0, 3] as [Int])
    let r = try gradgradcheck({ crossEntropy($0[0], t, labelSmoothing: 0.2) }, inputs: [x])
    #expect(r.passed, "\(r)")
    let w = randn64([2, 4], seed: 5), b = randn64([2], seed: 6)
    let r2 = try gradgradcheck({ linear($0[0], $0[1], $0[2]).tanh() }, inputs: [x, w, b])
    #expect(r2.passed, "\(r2)")
}

@Test func float32CrossEntropyOnLongRowsMatchesFloat64() throws {
    // Long rows (not a multiple of the kernel's 16 lanes) with masked entries.
    let x64 = randn64([3, 1037]) * 4
    var x32 = x64.to(.float32)
    x32.setValue(-.infinity, at: [1, 5])
    var xRef = x64
    xRef.setValue(-.infinity, at: [1, 5])
    let t = Tensor([7, 1036, 0] as [Int])
    #expect(abs(crossEntropy(x32, t).item - crossEntropy(xRef, t).item) < 1e-5)
    let p32 = x32.softmax(axis: 1), p64 = xRef.softmax(axis: 1)
    #expect(maxAbsDiff(p32, p64) < 1e-6)
    #expect(p32.value(at: [1, 5]) == 0)
    #expect(maxAbsDiff(x32.logSoftmax(axis: 1).sliced(0, 0, 1), xRef.logSoftmax(axis: 1).sliced(0, 0, 1)) < 1e-4)
}
