import Benchmarking
import Testing
import Tensors

extension GradcheckCase: CustomTestStringConvertible {
    public var testDescription: String { name }
}

/// Every differentiable operation, checked against float64 central differences.
@Suite("Gradcheck catalog")
struct GradcheckCatalogTests {
    @Test("first derivatives match finite differences", arguments: OpCatalog.all)
    func firstOrder(_ c: GradcheckCase) throws {
        let report = try gradcheck(c.function, inputs: c.makeInputs(), eps: c.eps, tolerance: 1e-6)
        #expect(report.passed, "\(c.name): \(report)")
    }

    @Test("second derivatives match finite differences", arguments: OpCatalog.all.filter(\.twiceDifferentiable))
    func secondOrder(_ c: GradcheckCase) throws {
        let report = try gradgradcheck(c.function, inputs: c.makeInputs(), eps: c.eps, tolerance: 1e-6)
        #expect(report.passed, "\(c.name): \(report)")
    }

    @Test("the catalog covers every differentiable operation")
    func coverage() {
        let required = """
            neg exp log log1p expm1 sqrt rsqrt abs square reciprocal sin cos erf tanh sigmoid relu gelu
            softplus clamped pow affine add sub mul div powTensor maximum minimum atan2 where maskedFill to
            reshape permute transpose slice select expand squeeze unsqueeze contiguous sum mean sum(to:)
            max min logsumexp variance norm softmax logSoftmax layerNorm indexSelect indexAdd gather
            scatterAdd concat stack split matmul solve
            """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        let covered = Set(OpCatalog.operations)
        #expect(required.filter { !covered.contains($0) } == [])
        #expect(OpCatalog.all.count >= 40)
        #expect(Set(OpCatalog.all.map(\.name)).count == OpCatalog.all.count, "case names must be unique")
        #expect(OpCatalog.cases(named: "softmax").count == 3)
    }
}
