import Testing
import Tensors
@testable import NN

/// A layer whose visit forgets its second child and a bare trainable tensor.
final class Forgetful: Module {
    let first = Linear(4, 4)
    let second = Linear(4, 2)
    var scale = Tensor.ones([2]).requiringGrad()
    let heads = [Linear(2, 2), Linear(2, 2)]
    func visit(_ v: inout ModuleVisitor) {
        v.child("first", first)
        v.child("heads.0", heads[0])
    }
}

/// Reports everything, including a tied weight held twice, a decoder whose weight is the
/// embedding's and whose bias is reported on its own, and an optional absent child.
final class Careful: Module {
    let embedding = Embedding(10, 4)
    lazy var tiedWeight = embedding.weight
    let decoder = Linear(4, 10)
    let skipped: Linear? = nil
    var running = Tensor.zeros([4])   // a buffer: not trainable, reported as one
    init() { decoder.weight = embedding.weight }
    func visit(_ v: inout ModuleVisitor) {
        v.child("embedding", embedding)
        v.parameter("decoder.bias", &decoder.bias)
        v.buffer("running", &running)
    }
}

/// Forgets a dropout layer: no parameters, but eval() would never switch it off.
final class ForgetsDropout: Module {
    let fc = Linear(2, 2)
    let drop = Dropout(0.5)
    func visit(_ v: inout ModuleVisitor) { v.child("fc", fc) }
}

struct ParameterCheckTests {
    @Test func aChildOrTensorThatVisitOmitsIsNamed() throws {
        let m = Forgetful()
        #expect(m.unreportedParameters() == ["heads.1 (a Linear module)", "scale (a trainable tensor of shape [2])", "second (a Linear module)"])
        #expect(throws: NNError.self) { try m.checkParameters() }
        // The optimizer refuses the model, so the forgotten weights cannot go untrained unnoticed.
        do {
            _ = try SGD(m, learningRate: 0.1)
            Issue.record("SGD accepted a model whose visit forgets parameters")
        } catch {
            #expect("\(error)".contains("Forgetful.visit does not report") && "\(error)".contains("second"))
        }
    }

    @Test func aCompleteVisitPasses() throws {
        let m = Careful()
        _ = m.tiedWeight
        #expect(m.unreportedParameters().isEmpty)
        try m.checkParameters()
        try Stack().checkParameters()
        try Sequential(Linear(3, 4), Linear(4, 2)).checkParameters()
        #expect(ForgetsDropout().unreportedParameters() == ["drop (a Dropout module)"])
    }
}
