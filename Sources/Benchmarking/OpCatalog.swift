import DEQ
import Models
import NN
import Solvers
import Tensors

/// Every differentiable operation of the Tensors target as a ``GradcheckCase``, run by the test
/// suite and by `deq gradcheck --ops`.
///
/// Shapes are drawn at random (seeded by the case name), operands broadcast and are made
/// non-contiguous (transposed, sliced, expanded) inside the functions, and values keep away from
/// kinks. Linear operations are followed by `square()` so that the second-order check also runs
/// their backward's backward (a linear op's gradient does not otherwise depend on its input).
public enum OpCatalog {
    /// All cases, grouped by kind of operation.
    public static let all: [GradcheckCase] =
        unary + binary + selection + views + reductions + rowwise + indexing + products

    /// The cases whose name is `name`, or whose operation (first word of the name) is `name`.
    public static func cases(named name: String) -> [GradcheckCase] {
        all.filter { $0.name == name || $0.operation == name }
    }

    /// The distinct operations covered, in catalog order.
    public static var operations: [String] {
        var seen: Set<String> = []
        return all.map(\.operation).filter { seen.insert($0).inserted }
    }

    typealias Inputs = CatalogInputs
    typealias Case = GradcheckCase

    /// A unary case on a random [r, c] input; `layout` makes the operand non-contiguous.
    static func unaryCase(_ name: String, layout: Layout = .contiguous,
                          values: @escaping @Sendable (Inputs, [Int]) -> Tensor = { $0.normal($1) },
                          _ op: @escaping @Sendable (Tensor) -> Tensor) -> Case {
        Case(name + layout.suffix, inputs: { g in
            let d = Inputs(generator: g)
            return [values(d, layout.storedShape(d.dim(), d.dim(2, 5)))]
        }) { xs in op(layout.apply(xs[0])) }
    }

    /// How a case turns its stored input into the operand.
    enum Layout: Sendable {
        case contiguous, transposed, strided

        var suffix: String {
            switch self {
            case .contiguous: return ""
            case .transposed: return " transposed"
            case .strided: return " strided"
            }
        }

        /// The stored shape that gives an [r, c] operand.
        func storedShape(_ r: Int, _ c: Int) -> [Int] {
            switch self {
            case .contiguous: return [r, c]
            case .transposed: return [c, r]
            case .strided: return [r, 2 * c]
            }
        }

        func apply(_ x: Tensor) -> Tensor {
            switch self {
            case .contiguous: return x
            case .transposed: return x.T
            case .strided: return x.sliced(1, 0, nil, step: 2)
            }
        }
    }

    static let unary: [Case] = [
        unaryCase("neg") { -$0 },
        unaryCase("exp", layout: .transposed) { $0.exp() },
        unaryCase("log", values: { $0.uniform($1, 0.5, 2) }) { $0.log() },
        unaryCase("log1p", layout: .strided, values: { $0.uniform($1, -0.5, 2) }) { $0.log1p() },
        unaryCase("expm1") { $0.expm1() },
        unaryCase("sqrt", layout: .transposed, values: { $0.uniform($1, 0.5, 2) }) { $0.sqrt() },
        unaryCase("rsqrt", values: { $0.uniform($1, 0.5, 2) }) { $0.rsqrt() },
        unaryCase("abs", layout: .strided, values: { $0.awayFromZero($1) }) { $0.abs() },
        unaryCase("square") { $0.square() },
        unaryCase("reciprocal", layout: .transposed, values: { $0.awayFromZero($1, margin: 0.5) }) { $0.reciprocal() },
        unaryCase("sin") { $0.sin() },
        unaryCase("cos", layout: .strided) { $0.cos() },
        unaryCase("erf") { $0.erf() },
        unaryCase("tanh", layout: .transposed) { $0.tanh() },
        unaryCase("sigmoid") { $0.sigmoid() },
        unaryCase("relu", layout: .strided, values: { $0.awayFromZero($1) }) { $0.relu() },
        unaryCase("gelu") { $0.gelu() },
        unaryCase("softplus", layout: .transposed) { $0.softplus() },
        unaryCase("clamped", values: { $0.avoiding($1, [-0.5, 0.5], margin: 0.1, low: -1.5, high: 1.5) }) {
            $0.clamped(min: -0.5, max: 0.5).square()
        },
        unaryCase("clamped lower", layout: .strided, values: { $0.avoiding($1, [0], margin: 0.1, low: -1, high: 1) }) {
            $0.clamped(min: 0).square()
        },
        unaryCase("pow cube") { $0.pow(3) },
        unaryCase("pow fractional", layout: .transposed, values: { $0.uniform($1, 0.5, 2) }) { $0.pow(2.5) },
        unaryCase("pow negative", values: { $0.uniform($1, 0.5, 2) }) { $0.pow(-1.5) },
        // sign's derivative is zero away from 0; the product checks that nothing flows through it.
        unaryCase("sign", values: { $0.awayFromZero($1) }) { $0.sign() * $0.square() },
        unaryCase("affine", layout: .strided) { $0.affine(scale: 1.7, shift: -0.3).square() },
    ]

    /// A binary case: `a` is [r, c]; `b` has the shape `bShape` gives from (r, c).
    static func binaryCase(_ name: String, bShape: @escaping @Sendable (Int, Int) -> [Int],
                           values: @escaping @Sendable (Inputs, [Int], [Int]) -> [Tensor] = { d, a, b in [d.normal(a), d.normal(b)] },
                           _ op: @escaping @Sendable (Tensor, Tensor) -> Tensor) -> Case {
        Case(name, inputs: { g in
            let d = Inputs(generator: g)
            let r = d.dim(), c = d.dim(2, 5)
            return values(d, [r, c], bShape(r, c))
        }) { xs in op(xs[0], xs[1]) }
    }

    static let binary: [Case] = [
        binaryCase("add broadcast row", bShape: { _, c in [c] }) { ($0 + $1).square() },
        binaryCase("add expanded", bShape: { r, _ in [r, 1] }) { a, b in (a + b.expanded(to: a.shape)).square() },
        binaryCase("sub broadcast column", bShape: { r, _ in [r, 1] }) { ($0 - $1).square() },
        binaryCase("sub transposed", bShape: { r, c in [c, r] }) { a, b in (a.T - b).square() },
        binaryCase("mul transposed", bShape: { r, c in [c, r] }) { a, b in a * b.T },
        binaryCase("mul broadcast both", bShape: { r, _ in [r, 1] }, values: { d, a, b in
            [d.normal([1, a[1]]), d.normal(b)]
        }) { $0 * $1 },
        binaryCase("div broadcast", bShape: { _, c in [1, c] }, values: { d, a, b in
            [d.normal(a), d.awayFromZero(b, margin: 0.5)]
        }) { $0 / $1 },
        binaryCase("div strided", bShape: { r, c in [r, 2 * c] }, values: { d, a, b in
            [d.normal(a), d.awayFromZero(b, margin: 0.5)]
        }) { a, b in a / b.sliced(1, 1, nil, step: 2) },
        binaryCase("div scalar", bShape: { _, _ in [] }, values: { d, a, _ in [d.awayFromZero(a, margin: 0.5), d.normal([])] }) {
            a, b in (2.5 / a) + a / 3 + 1.5 * a - a * b
        },
        binaryCase("powTensor", bShape: { _, c in [c] }, values: { d, a, b in
            [d.uniform(a, 0.5, 2), d.normal(b)]
        }) { $0.pow($1) },
        binaryCase("maximum", bShape: { _, c in [c] }, values: { d, a, b in
            let y = d.normal(b)
            return [y.expanded(to: a) + d.awayFromZero(a, margin: 0.1), y]
        }) { Tensor.maximum($0, $1).square() },
        binaryCase("minimum", bShape: { r, _ in [r, 1] }, values: { d, a, b in
            let y = d.normal(b)
            return [(y.expanded(to: a) + d.awayFromZero(a, margin: 0.1)).T.contiguous(), y]
        }) { a, b in Tensor.minimum(a.T, b).square() },
        binaryCase("atan2", bShape: { _, c in [c] }, values: { d, a, b in
            [d.normal(a), d.awayFromZero(b, margin: 0.5)]
        }) { Tensor.atan2($0, $1) },
    ]

    static let selection: [Case] = [
        Case("where", inputs: { g in
            let d = Inputs(generator: g)
            let r = d.dim(), c = d.dim()
            return [d.bools([r, c]), d.normal([r, c]), d.normal([c])]
        }) { xs in Tensor.where(xs[0], xs[1], xs[2]).square() },
        Case("where broadcast condition", inputs: { g in
            let d = Inputs(generator: g)
            let r = d.dim(), c = d.dim()
            return [d.bools([r, 1]), d.normal([c, r]), d.normal([])]
        }) { xs in Tensor.where(xs[0], xs[1].T, xs[2]).square() },
        Case("maskedFill", inputs: { g in
            let d = Inputs(generator: g)
            let r = d.dim(), c = d.dim()
            return [d.normal([r, c]), d.bools([c])]
        }) { xs in xs[0].maskedFill(xs[1], 0.7).square() },
        // A float32 round trip is exact for values and steps that are multiples of 2⁻⁸, so the
        // finite differences stay exact despite the narrow type. The backward rounds the
        // cotangent to float32, so second derivatives can only match to float32 precision
        // (about 1e-7 relative per rounding); the second-order check is left out for that reason.
        Case("to", twice: false, eps: 1.0 / 256, inputs: { g in
            let d = Inputs(generator: g)
            let x = d.uniform([d.dim(), d.dim()], -2, 2)
            return [Tensor(x.scalars.map { ($0 * 256).rounded() / 256 }, shape: x.shape)]
        }) { xs in xs[0].to(.float32).to(.float64).square() },
    ]

    /// A case on one random input of `shape` made from sizes drawn in 2...4.
    static func oneInput(_ name: String, rank: Int = 3,
                         shape: @escaping @Sendable ([Int]) -> [Int] = { $0 },
                         values: @escaping @Sendable (Inputs, [Int]) -> Tensor = { $0.normal($1) },
                         twice: Bool = true,
                         _ op: @escaping @Sendable (Tensor) -> Tensor) -> Case {
        Case(name, twice: twice, inputs: { g in
            let d = Inputs(generator: g)
            let dims = (0..<rank).map { _ in d.dim() }
            return [values(d, shape(dims))]
        }) { xs in op(xs[0]) }
    }

    static let views: [Case] = [
        oneInput("reshape") { x in x.reshaped([x.shape[0], -1]).square() },
        oneInput("reshape copy", rank: 2) { x in x.T.reshaped([-1]).square() },
        oneInput("reshape strided view") { x in x.permuted(1, 0, 2).reshaped([x.shape[1], -1]).square() },
        oneInput("flattened", rank: 3) { x in x.transposed(0, 1).flattened(from: 1).square() },
        oneInput("permute") { x in x.permuted(2, 0, 1).square() },
        oneInput("transpose") { x in x.transposed(0, 2).square() },
        oneInput("slice", rank: 2, shape: { [$0[0], $0[1] + 3] }) { x in x.sliced(1, 1, nil, step: 2).square() },
        oneInput("slice negative", rank: 2) { x in x.T.sliced(0, -2).square() },
        oneInput("narrow", rank: 2, shape: { [$0[0] + 1, $0[1]] }) { x in x.narrow(0, start: 1, length: 2).square() },
        oneInput("select") { x in x.select(1, -1).square() },
        oneInput("subscript", rank: 2) { x in (x[1] * x[0, 1]).square() },
        oneInput("expand", shape: { [$0[0], 1, $0[2]] }) { x in
            x.expanded(to: [2, x.shape[0], 3, x.shape[2]]).square()
        },
        oneInput("squeeze", shape: { [$0[0], 1, $0[2]] }) { x in x.squeezed(1).square() },
        oneInput("squeeze all", shape: { [1, $0[0], 1] }) { x in x.squeezed().square() },
        oneInput("unsqueeze", rank: 2) { x in x.T.unsqueezed(1).square() },
        oneInput("contiguous", rank: 2) { x in x.T.contiguous().square() },
    ]

    static let reductions: [Case] = [
        oneInput("sum") { x in x.sum().square() },
        oneInput("sum axes keepDim") { x in x.sum(axes: [0, 2], keepDim: true).square() },
        oneInput("sum transposed", rank: 2) { x in x.T.sum(axis: 0).square() },
        oneInput("mean") { x in x.mean(axis: 1).square() },
        oneInput("mean all strided", rank: 2) { x in x.sliced(0, 0, nil, step: 2).mean().square() },
        oneInput("sum(to:)") { x in x.sum(to: [x.shape[1], 1]).square() },
        oneInput("max", values: { $0.distinct($1) }) { x in x.max(axis: 1).square() },
        oneInput("max all", values: { $0.distinct($1) }) { x in x.max().square() },
        oneInput("min", rank: 2, values: { $0.distinct($1) }) { x in x.T.min(axis: 0, keepDim: true).square() },
        oneInput("logsumexp") { x in x.logsumexp(axis: 1) },
        oneInput("logsumexp axes") { x in x.logsumexp(axes: [0, 2]) },
        oneInput("variance") { x in x.variance(axes: [1]) },
        oneInput("variance biased", rank: 2) { x in x.T.variance(axes: [0], correction: 0) },
        oneInput("standardDeviation", rank: 2) { x in x.standardDeviation(axes: [1]) },
        oneInput("norm") { x in x.norm() },
        oneInput("norm axes", rank: 2) { x in x.norm(axes: [1]) },
        oneInput("norm l1", rank: 2, values: { $0.awayFromZero($1) }) { x in x.norm(1, axes: [0]).square() },
        oneInput("norm p3", rank: 2, values: { $0.awayFromZero($1) }) { x in x.norm(3, axes: [1]) },
        oneInput("norm infinity", rank: 2, values: { d, s in d.distinct(s) }) { x in x.norm(.infinity).square() },
    ]

    static let rowwise: [Case] = [
        oneInput("softmax") { x in x.softmax(axis: -1) },
        oneInput("softmax axis0") { x in x.softmax(axis: 0) },
        oneInput("softmax transposed", rank: 2) { x in x.T.softmax(axis: -1) },
        oneInput("logSoftmax") { x in x.logSoftmax(axis: -1) },
        oneInput("logSoftmax axis1") { x in x.logSoftmax(axis: 1) },
        oneInput("layerNorm") { x in x.layerNorm() },
        oneInput("layerNorm transposed", rank: 2) { x in x.T.layerNorm() },
        Case("layerNorm affine", inputs: { g in
            let d = Inputs(generator: g)
            let n = d.dim(3, 5)
            return [d.normal([d.dim(), d.dim(), n]), d.normal([n]), d.normal([n])]
        }) { xs in xs[0].layerNorm(weight: xs[1], bias: xs[2]) },
    ]

    static let indexing: [Case] = [
        Case("indexSelect", inputs: { g in
            let d = Inputs(generator: g)
            let n = d.dim(), c = d.dim()
            return [d.normal([n, c]), d.indices([n + 2], below: n)]
        }) { xs in xs[0].indexSelect(axis: 0, xs[1]).square() },
        Case("indexSelect axis1 transposed", inputs: { g in
            let d = Inputs(generator: g)
            let n = d.dim(), c = d.dim()
            return [d.normal([n, c]), d.indices([3], below: n)]
        }) { xs in xs[0].T.indexSelect(axis: 1, xs[1]).square() },
        Case("indexAdd", inputs: { g in
            let d = Inputs(generator: g)
            let n = d.dim(), c = d.dim(), k = d.dim(2, 5)
            return [d.normal([n, c]), d.indices([k], below: n), d.normal([k, c])]
        }) { xs in xs[0].indexAdd(axis: 0, xs[1], xs[2]).square() },
        Case("gather", inputs: { g in
            let d = Inputs(generator: g)
            let r = d.dim(), n = d.dim()
            return [d.normal([r, n]), d.indices([r, d.dim(2, 5)], below: n)]
        }) { xs in xs[0].gather(axis: 1, xs[1]).square() },
        Case("gather axis0 transposed", inputs: { g in
            let d = Inputs(generator: g)
            let r = d.dim(), n = d.dim()
            return [d.normal([r, n]), d.indices([3, r], below: n)]
        }) { xs in xs[0].T.gather(axis: 0, xs[1]).square() },
        Case("scatterAdd", inputs: { g in
            let d = Inputs(generator: g)
            let r = d.dim(), n = d.dim(), k = d.dim(2, 5)
            return [d.normal([r, n]), d.indices([r, k], below: n), d.normal([r, k])]
        }) { xs in xs[0].scatterAdd(axis: 1, xs[1], xs[2]).square() },
        Case("concat", inputs: { g in
            let d = Inputs(generator: g)
            let r = d.dim()
            return [d.normal([r, d.dim()]), d.normal([d.dim(), r]), d.normal([r, 1])]
        }) { xs in Tensor.concat([xs[0], xs[1].T, xs[2]], axis: 1).square() },
        Case("stack", inputs: { g in
            let d = Inputs(generator: g)
            let r = d.dim(), c = d.dim()
            return [d.normal([r, c]), d.normal([c, r])]
        }) { xs in Tensor.stack([xs[0], xs[1].T], axis: 1).square() },
        oneInput("split", rank: 2, shape: { [$0[0], 4] }) { x in
            let p = x.split(sizes: [1, 2, 1], axis: 1)
            return Tensor.concat([p[2], p[0].square(), p[1]], axis: 1).square()
        },
        oneInput("chunked", rank: 2, shape: { [5, $0[1]] }) { x in
            let p = x.chunked(2, axis: 0)
            return (p[0].sum(axis: 0) * p[1].sum(axis: 0)).square()
        },
    ]

    /// A matrix-product case: shapes from sizes (m, k, n).
    static func matmulCase(_ name: String, _ shapes: @escaping @Sendable (Int, Int, Int) -> ([Int], [Int]),
                           _ op: @escaping @Sendable (Tensor, Tensor) -> Tensor = { $0.matmul($1) }) -> Case {
        Case(name, inputs: { g in
            let d = Inputs(generator: g)
            let (a, b) = shapes(d.dim(), d.dim(), d.dim())
            return [d.normal(a), d.normal(b)]
        }) { xs in op(xs[0], xs[1]) }
    }

    static let products: [Case] = [
        matmulCase("matmul") { m, k, n in ([m, k], [k, n]) },
        matmulCase("matmul transposed", { m, k, n in ([k, m], [n, k]) }) { $0.T.matmul($1.T) },
        matmulCase("matmul batched") { m, k, n in ([2, m, k], [k, n]) },
        matmulCase("matmul batched broadcast") { m, k, n in ([2, 1, m, k], [3, k, n]) },
        matmulCase("matmul matrix-vector") { m, k, _ in ([m, k], [k]) },
        matmulCase("matmul vector-matrix") { _, k, n in ([k], [k, n]) },
        matmulCase("matmul vector-vector") { _, k, _ in ([k], [k]) },
        oneInput("lowerTriangle", rank: 2) { x in x.lowerTriangle().square() },
        oneInput("lowerTriangle upper", rank: 2) { x in x.T.lowerTriangle(upper: true, diagonal: 1).square() },
        Case("solve", inputs: { g in
            let d = Inputs(generator: g)
            let n = d.dim(2, 4)
            return [d.wellConditioned([], n), d.normal([n, d.dim(1, 3)])]
        }) { xs in try! Tensor.solve(xs[0], xs[1]) },
        Case("solve vector", inputs: { g in
            let d = Inputs(generator: g)
            let n = d.dim(2, 4)
            return [d.wellConditioned([], n), d.normal([n])]
        }) { xs in try! Tensor.solve(xs[0], xs[1]) },
        Case("solve batched", inputs: { g in
            let d = Inputs(generator: g)
            let n = d.dim(2, 3)
            return [d.wellConditioned([2], n), d.normal([2, n, 2])]
        }) { xs in try! Tensor.solve(xs[0], xs[1]) },
    ]
}

extension GradcheckCase {
    /// The operation a case checks: the first word of its name.
    public var operation: String { String(name.split(separator: " ").first ?? Substring(name)) }
}
