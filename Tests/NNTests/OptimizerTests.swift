import Foundation
import Testing
import Tensors
@testable import NN

/// One float64 parameter vector on the quadratic f(p) = ½ Σ aᵢ pᵢ² − Σ bᵢ pᵢ, whose gradient is a·p − b.
final class Quadratic: Module {
    var p: Tensor
    let a: [Double] = [1.0, 3.0, 0.5]
    let b: [Double] = [0.2, -1.0, 0.7]
    init(_ start: [Double] = [1.0, -2.0, 0.5]) { p = Tensor(start).requiringGrad() }
    func visit(_ v: inout ModuleVisitor) { v.parameter("p", &p) }

    func computeGradient() throws {
        zeroGrad()
        let loss = (Tensor(a) * p.square() * 0.5 - Tensor(b) * p).sum()
        try loss.backward()
    }
    var values: [Double] { p.scalars }
}

func gradient(_ q: Quadratic, _ p: [Double]) -> [Double] { (0..<3).map { q.a[$0] * p[$0] - q.b[$0] } }

/// Runs `steps` optimizer steps and the independent reference side by side, comparing after each.
func compare(_ q: Quadratic, _ opt: Optimizer, steps: Int = 4,
             reference: (_ t: Int, _ p: inout [Double], _ g: [Double]) -> Void) throws {
    var p = q.values
    for t in 1...steps {
        try q.computeGradient()
        opt.step()
        reference(t, &p, gradient(q, p))
        for i in 0..<3 { #expect(abs(q.values[i] - p[i]) < 1e-12, "step \(t), element \(i): \(q.values[i]) vs \(p[i])") }
    }
}

@Test func sgdPlainAndWithWeightDecay() throws {
    let q = Quadratic()
    try compare(q, try SGD(q, learningRate: 0.1, weightDecay: 0.01)) { _, p, g in
        for i in 0..<3 { p[i] -= 0.1 * (g[i] + 0.01 * p[i]) }
    }
}

@Test func sgdMomentumAndNesterov() throws {
    for nesterov in [false, true] {
        let q = Quadratic()
        var buf = [Double](repeating: 0, count: 3)
        try compare(q, try SGD(q, learningRate: 0.1, momentum: 0.9, nesterov: nesterov)) { t, p, g in
            for i in 0..<3 {
                buf[i] = t == 1 ? g[i] : 0.9 * buf[i] + g[i]
                p[i] -= 0.1 * (nesterov ? g[i] + 0.9 * buf[i] : buf[i])
            }
        }
    }
}

@Test func adamAndAdamW() throws {
    for decoupled in [false, true] {
        let q = Quadratic()
        let (lr, b1, b2, eps, wd) = (0.05, 0.9, 0.999, 1e-8, 0.1)
        let opt: Optimizer = decoupled ? try AdamW(q, learningRate: lr, weightDecay: wd)
            : try Adam(q, learningRate: lr, weightDecay: wd)
        var m = [0.0, 0, 0], v = [0.0, 0, 0]
        try compare(q, opt) { t, p, g0 in
            for i in 0..<3 {
                var g = g0[i]
                if decoupled { p[i] *= 1 - lr * wd } else { g += wd * p[i] }
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                let mh = m[i] / (1 - pow(b1, Double(t))), vh = v[i] / (1 - pow(b2, Double(t)))
                p[i] -= lr * mh / (vh.squareRoot() + eps)
            }
        }
    }
}

@Test func radamSwitchesToRectifiedSteps() throws {
    let q = Quadratic()
    let (lr, b1, b2, eps) = (0.01, 0.9, 0.999, 1e-8)
    var m = [0.0, 0, 0], v = [0.0, 0, 0]
    let rhoInf = 2 / (1 - b2) - 1
    var rectifiedSteps = 0
    try compare(q, try RAdam(q, learningRate: lr), steps: 8) { t, p, g in
        let bt2 = pow(b2, Double(t))
        let rho = rhoInf - 2 * Double(t) * bt2 / (1 - bt2)
        for i in 0..<3 {
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            let mh = m[i] / (1 - pow(b1, Double(t)))
            if rho > 5 {
                let r = ((rho - 4) * (rho - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rho)).squareRoot()
                p[i] -= lr * mh * r * (1 - bt2).squareRoot() / (v[i].squareRoot() + eps)
            } else {
                p[i] -= lr * mh
            }
        }
        if rho > 5 { rectifiedSteps += 1 }
    }
    #expect(rectifiedSteps > 0 && rectifiedSteps < 8)   // both branches were exercised
}

@Test func adagrad() throws {
    let q = Quadratic()
    var s = [0.0, 0, 0]
    try compare(q, try Adagrad(q, learningRate: 0.3)) { _, p, g in
        for i in 0..<3 {
            s[i] += g[i] * g[i]
            p[i] -= 0.3 * g[i] / (s[i].squareRoot() + 1e-10)
        }
    }
}

@Test func clippingScalesToTheGlobalNorm() throws {
    let m = Sequential(Linear(3, 2), Linear(2, 2))
    try (m(Tensor.randn([4, 3])) * 10).sum().backward()
    let grads = m.parameters().map { $0.grad!.scalars }
    let norm = grads.flatMap { $0 }.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let reported = clipGradientNorm(m, maxNorm: 0.25)
    #expect(abs(reported - norm) < 1e-4 * norm)
    let after = m.parameters().flatMap { $0.grad!.scalars }.reduce(0) { $0 + $1 * $1 }.squareRoot()
    #expect(abs(after - 0.25) < 1e-5)
    for (p, g) in zip(m.parameters(), grads) {
        for (x, y) in zip(p.grad!.scalars, g) { #expect(abs(x - y * 0.25 / norm) < 1e-6) }
    }
}

@Test func optimizerStateRoundTrips() throws {
    let q = Quadratic()
    let opt = try Adam(q, learningRate: 0.1)
    try q.computeGradient(); opt.step()
    let (tensors, meta) = opt.exportState()
    #expect(Set(tensors.keys) == ["p.exp_avg", "p.exp_avg_sq", "p.step"])
    let fresh = try Adam(q, learningRate: 0.5)
    try fresh.importState(tensors: tensors, metadata: meta)
    #expect(fresh.stepCount == 1 && fresh.learningRate == 0.1)
    #expect(fresh.state["p"]!["exp_avg"]!.scalars == opt.state["p"]!["exp_avg"]!.scalars)
    #expect(throws: CheckpointError.self) { try fresh.importState(tensors: ["q.exp_avg": Tensor.zeros([3])], metadata: [:]) }
}

@Test func schedulesMatchTheirFormulas() throws {
    let step = try StepDecay(base: 0.1, stepSize: 3, gamma: 0.5)
    #expect(step.learningRate(at: 0) == 0.1 && step.learningRate(at: 2) == 0.1)
    #expect(abs(step.learningRate(at: 7) - 0.025) < 1e-15)
    #expect(abs(ExponentialDecay(base: 2, gamma: 0.9).learningRate(at: 3) - 2 * 0.729) < 1e-15)
    let warm = try LinearWarmup(base: 1, warmup: 4)
    #expect(warm.learningRate(at: 0) == 0.25 && warm.learningRate(at: 3) == 1 && warm.learningRate(at: 10) == 1)
    let cosine = try CosineWithWarmup(base: 1, warmup: 10, total: 110, minimum: 0.1)
    #expect(abs(cosine.learningRate(at: 4) - 0.5) < 1e-15)
    #expect(abs(cosine.learningRate(at: 10) - 1) < 1e-15)
    #expect(abs(cosine.learningRate(at: 60) - 0.55) < 1e-12)          // halfway: min + (1 − min)/2
    #expect(abs(cosine.learningRate(at: 35) - (0.1 + 0.9 * (1 + cos(Double.pi / 4)) / 2)) < 1e-12)
    #expect(abs(cosine.learningRate(at: 500) - 0.1) < 1e-15)
    // A run shorter than its warm-up (a 5-step try of a long preset) only warms up.
    let short = try CosineWithWarmup(base: 1, warmup: 16_000, total: 5)
    #expect(short.learningRate(at: 4) == 5.0 / 16_000)
    let isr = try InverseSquareRoot(base: 1, warmup: 100)
    #expect(abs(isr.learningRate(at: 49) - 0.5) < 1e-15)
    #expect(abs(isr.learningRate(at: 99) - 1) < 1e-15)
    #expect(abs(isr.learningRate(at: 399) - 0.5) < 1e-15)
    let plateau = try ReduceOnPlateau(base: 1, factor: 0.5, patience: 2, cooldown: 1)
    let rates = [5.0, 4, 4, 4, 4, 4, 4, 4, 3].map { plateau.report($0) }
    // Bad reports 1, 2, 3 (> patience) at the 5th value; cooldown skips one; then 3 more bad ones.
    #expect(rates == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5])
    let sgd = try SGD(Linear(1, 1), learningRate: 1)
    cosine.apply(to: sgd, step: 60)
    #expect(abs(sgd.learningRate - 0.55) < 1e-12)
}

@Test func badSettingsAreErrorsNamingTheSetting() {
    let m = Linear(2, 2)
    let cases: [(String, () throws -> Any)] = [
        ("learning rate must be a non-negative number, got -1", { try SGD(m, learningRate: -1) }),
        ("learning rate must be a non-negative number, got nan", { try Adam(m, learningRate: .nan) }),
        ("momentum must be a non-negative number", { try SGD(m, learningRate: 1, momentum: -1) }),
        ("Nesterov momentum needs momentum > 0", { try SGD(m, learningRate: 1, nesterov: true) }),
        ("beta2 must be in [0, 1)", { try Adam(m, beta2: 1) }),
        ("weight decay must be a non-negative number", { try AdamW(m, weightDecay: -0.1) }),
        ("eps must be a non-negative number", { try Adagrad(m, eps: -1) }),
        ("step size must be positive, got 0", { try StepDecay(base: 1, stepSize: 0) }),
        ("warm-up must be a positive number of steps, got 0", { try InverseSquareRoot(base: 1, warmup: 0) }),
        ("warm-up must be 0 or more steps, got -1", { try LinearWarmup(base: 1, warmup: -1) }),
        ("total must be a positive number of steps, got 0", { try CosineWithWarmup(base: 1, total: 0) }),
        ("factor must be in (0, 1), got 1.0", { try ReduceOnPlateau(base: 1, factor: 1) }),
    ]
    for (expected, make) in cases {
        do { _ = try make(); Issue.record("accepted: \(expected)") } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }
}
