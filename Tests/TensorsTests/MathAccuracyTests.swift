import Foundation
import Testing
import Tensors

// The vectorised float32 transcendentals (Sources/CKernels/mathfun.h) against float64 libm over
// the whole float range: about a thousand points per binade for both signs, the denormals, a
// dense sweep of [-12, 12], and ±0, ±inf, NaN. The bound is 2 ulp or 1e-6 relative error.
@Suite struct MathAccuracyTests {
    /// Float32 inputs covering every binade of both signs, plus special values.
    static let inputs: [Float] = {
        var xs: [Float] = []
        // 8161 is odd, so the sampled mantissas vary in all their low bits.
        var bits: UInt32 = 0
        while bits < 0x7F80_0000 {
            let x = Float(bitPattern: bits)
            xs.append(x)
            xs.append(-x)
            bits += 8161
        }
        var rng = TestRNG(127)
        for _ in 0..<40_000 { xs.append(Float(rng.uniform(-12, 12))) }
        xs += [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
               .leastNormalMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
               1, -1, 0.5, -0.5, 0.625, -0.625, 0.3, -0.3, 88.72, 88.73, -87.3, -103.9, -104, 1e-8, -1e-8]
        return xs
    }()

    /// Error of `got` against `ref` in units of the float32 ulp at `ref`, or 0 when within 1e-6 relative.
    static func error(_ got: Float, _ ref: Double) -> Double {
        if ref.isNaN { return got.isNaN ? 0 : .infinity }
        if got.isNaN { return .infinity }
        if Swift.abs(ref) > Double(Float.greatestFiniteMagnitude) {
            // The reference overflows float: the result must be the infinity of that sign.
            return got.isInfinite && (got > 0) == (ref > 0) ? 0 : .infinity
        }
        if got.isInfinite { return .infinity }
        let diff = Swift.abs(Double(got) - ref)
        if diff <= 1e-6 * Swift.abs(ref) { return 0 }
        let ulp = Double(Float(Swift.abs(ref)).ulp)
        return diff / ulp
    }

    static let functions: [(String, @Sendable (Tensor) -> Tensor, @Sendable (Double) -> Double)] = [
        ("exp", { $0.exp() }, { Foundation.exp($0) }),
        ("log", { $0.log() }, { Foundation.log($0) }),
        ("log1p", { $0.log1p() }, { Foundation.log1p($0) }),
        ("expm1", { $0.expm1() }, { Foundation.expm1($0) }),
        ("tanh", { $0.tanh() }, { Foundation.tanh($0) }),
        ("sigmoid", { $0.sigmoid() }, { x in
            x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) }),
        // At -inf x Φ(x) is 0·(-inf) in IEEE arithmetic; the limit 0 is the useful value.
        ("gelu", { $0.gelu() }, { x in x == -.infinity ? 0 : 0.5 * x * Foundation.erfc(-x / 2.0.squareRoot()) }),
        ("softplus", { $0.softplus() }, { x in Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }),
        ("erf", { $0.erf() }, { Foundation.erf($0) }),
    ]

    @Test(arguments: 0..<9)
    func float32AgainstLibm(function index: Int) {
        let (name, op, ref) = Self.functions[index]
        let xs = Self.inputs
        let ys = op(Tensor(xs)).toArray(Float.self)
        var worst: [(Double, Float, Float, Double)] = []
        var failures = 0
        var maxError = 0.0
        for i in 0..<xs.count {
            let r = ref(Double(xs[i]))
            let e = Self.error(ys[i], r)
            maxError = Swift.max(maxError, e.isFinite ? e : 1e30)
            if e > 2 {
                failures += 1
                if worst.count < 5 || e > worst.last!.0 {
                    worst.append((e, xs[i], ys[i], r))
                    worst.sort { $0.0 > $1.0 }
                    if worst.count > 5 { worst.removeLast() }
                }
            }
        }
        for (e, x, y, r) in worst {
            Issue.record("\(name)(\(x)) = \(y), libm gives \(r) (\(e) ulp)")
        }
        #expect(failures == 0, "\(name): \(failures) of \(xs.count) inputs exceed 2 ulp and 1e-6 relative error")
    }

    @Test func signedZerosAndLimits() {
        let x = Tensor([0, -0.0, .infinity, -.infinity] as [Float])
        #expect(x.exp().toArray(Float.self) == [1, 1, .infinity, 0])
        #expect(x.log().toArray(Float.self)[..<3] == [-.infinity, -.infinity, .infinity])
        #expect(x.log().toArray(Float.self)[3].isNaN)
        #expect(x.expm1().toArray(Float.self)[2...] == [.infinity, -1])
        #expect(x.tanh().toArray(Float.self)[2...] == [1, -1])
        #expect(x.erf().toArray(Float.self)[2...] == [1, -1])
        #expect(x.sigmoid().toArray(Float.self) == [0.5, 0.5, 1, 0])
        #expect(x.softplus().toArray(Float.self)[2...] == [.infinity, 0])
        #expect(x.gelu().toArray(Float.self)[2] == .infinity)
        #expect(x.gelu().toArray(Float.self)[3] == 0)
        #expect(x.to(.float64).gelu().scalars[2...] == [.infinity, 0])
    }

    @Test(arguments: [DType.float32, .float64])
    func geluGradientAtTheLimits(dtype: DType) throws {
        // gelu'(x) = Φ(x) + x φ(x): 1 at +inf, 0 at -inf, 1/2 at 0.
        let x = Tensor([.infinity, -.infinity, 0, 1] as [Double]).to(dtype).requiringGrad()
        try x.gelu().sum().backward()
        let g = try #require(x.grad).scalars
        #expect(Array(g[..<3]) == [1, 0, 0.5])
        let ref = 0.5 * Foundation.erfc(-1 / 2.0.squareRoot()) + Foundation.exp(-0.5) / (2 * Double.pi).squareRoot()
        #expect(Swift.abs(g[3] - ref) < (dtype == .float32 ? 1e-6 : 1e-14))
    }
}
