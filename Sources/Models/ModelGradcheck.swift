import Foundation
import NN
import Tensors

/// The result of checking a whole model's parameter gradients against finite differences.
public struct ModelGradcheckReport: CustomStringConvertible, Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var maxRelativeError: Double
        public var worstIndex: Int
    }
    public var entries: [Entry]
    public var tolerance: Double
    public var passed: Bool { entries.allSatisfy { $0.maxRelativeError < tolerance } }
    public var maxRelativeError: Double { entries.map(\.maxRelativeError).max() ?? 0 }

    public var description: String {
        var lines = ["model gradcheck \(passed ? "passed" : "FAILED"): max relative error \(String(format: "%.2e", maxRelativeError)) over \(entries.count) parameters (tolerance \(tolerance))"]
        for e in entries {
            lines.append("  \(e.name): \(String(format: "%.2e", e.maxRelativeError)) (worst element \(e.worstIndex))")
        }
        return lines.joined(separator: "\n")
    }
}

/// Checks ∂loss/∂θ for every parameter θ of `model` against central differences, perturbing
/// each element in place. Convert the model to float64 first; `loss` must be deterministic
/// (switch dropout off with `model.eval()` or hold its masks).
///
/// The relative error of an element is |a − n| / max(|a|, |n|, `floor`).
public func gradcheck(_ model: Module, eps: Double = 1e-6, tolerance: Double = 1e-5, floor: Double = 1e-2,
                      loss: () throws -> Tensor) throws -> ModelGradcheckReport {
    model.zeroGrad()
    try loss().backward()
    var entries: [ModelGradcheckReport.Entry] = []
    for (name, p) in model.namedParameters() where p.requiresGrad {
        let analytic = (p.grad ?? p.zerosLike()).toArray(Double.self)
        var worst = 0.0, worstIndex = 0
        for i in 0..<p.count {
            let basis = Tensor.zeros([p.count], dtype: p.dtype)
            var b = basis
            b.setValue(1, at: [i])
            let direction = b.reshaped(p.shape)
            p.addScaled(direction, eps)
            let plus = try withoutGradients { try loss().item }
            p.addScaled(direction, -2 * eps)
            let minus = try withoutGradients { try loss().item }
            p.addScaled(direction, eps)
            let numeric = (plus - minus) / (2 * eps)
            let error = abs(analytic[i] - numeric) / max(abs(analytic[i]), abs(numeric), floor)
            if error > worst || error.isNaN { worst = error.isNaN ? .infinity : error; worstIndex = i }
        }
        entries.append(.init(name: name, maxRelativeError: worst, worstIndex: worstIndex))
    }
    return ModelGradcheckReport(entries: entries, tolerance: tolerance)
}

/// The derivative of `loss` along one random direction of all of `model`'s parameters, from the
/// gradient and from central differences of `loss` itself: one backward pass and two forward
/// passes, so it checks a whole model (a DEQ's implicit gradient through its solver included)
/// at the cost of three evaluations. Convert the model to float64 first.
public struct DirectionalGradcheck: Sendable {
    public var analytic: Double
    public var numeric: Double
    public var relativeError: Double { abs(analytic - numeric) / max(abs(numeric), 1e-12) }

    public init(_ model: Module, eps: Double = 1e-6, seed: UInt64 = 99, loss: () throws -> Tensor) throws {
        model.zeroGrad()
        try loss().backward()
        let params = model.parameters()
        let gen = RandomGenerator(seed: seed)
        let direction = params.map { Tensor.randn($0.shape, dtype: $0.dtype, generator: gen) }
        analytic = zip(params, direction).map { p, d in ((p.grad ?? p.zerosLike()) * d).sum().item }.reduce(0, +)
        func shifted(_ shift: Double) throws -> Double {
            for (p, d) in zip(params, direction) { p.addScaled(d, shift) }
            defer { for (p, d) in zip(params, direction) { p.addScaled(d, -shift) } }
            return try withoutGradients { try loss().item }
        }
        numeric = (try shifted(eps) - shifted(-eps)) / (2 * eps)
    }
}
