import DEQ
import Solvers
import Tensors
import Testing

/// Gradients of Σ r ⊙ z* with respect to every parameter and the input, for a given equilibrium map.
private func gradients(_ options: DEQOptions, _ toy: ToyDEQ, weights r: Tensor) throws -> [Tensor] {
    let params = toy.parameters.map { $0.requiringGrad() }
    let z = ToyDEQ.equilibrium(options)(params)
    return try grad(of: (z * r).sum(), wrt: params)
}

private func relativeDifference(_ a: [Tensor], _ b: [Tensor]) -> Double {
    zip(a, b).map { x, y in (x - y).norm().item / max(y.norm().item, 1e-30) }.max() ?? 0
}

@Suite("DEQ layer gradients") struct DEQGradientTests {
    let toy = ToyDEQ()
    let r = Tensor.randn([ToyDEQ.batch, ToyDEQ.width], dtype: .float64, generator: RandomGenerator(seed: 9))

    @Test func implicitGradientMatchesFiniteDifferences() throws {
        let report = try gradcheck(ToyDEQ.equilibrium(ToyDEQ.tightOptions()), inputs: toy.parameters,
                                   eps: 1e-6, tolerance: 1e-5)
        #expect(report.passed, "\(report)")
    }

    @Test func implicitGradientMatchesUnrolledBackprop() throws {
        let implicit = try gradients(ToyDEQ.tightOptions(), toy, weights: r)
        var unrolled = ToyDEQ.tightOptions()
        unrolled.unrolledSteps = 300
        let reference = try gradients(unrolled, toy, weights: r)
        let difference = relativeDifference(implicit, reference)
        #expect(difference < 1e-6, "relative difference \(difference)")
    }

    @Test func phantomGradientApproachesImplicit() throws {
        let implicit = try gradients(ToyDEQ.tightOptions(), toy, weights: r)
        var errors: [Double] = []
        for k in [1, 3, 10, 30] {
            let phantom = try gradients(ToyDEQ.tightOptions(backward: .phantom(steps: k, damping: 0.8)), toy, weights: r)
            errors.append(relativeDifference(phantom, implicit))
        }
        for (a, b) in zip(errors, errors.dropFirst()) { #expect(b < a, "errors \(errors)") }
        #expect(errors.last! < 1e-4, "errors \(errors)")
    }

    @Test func jacobianFreeGradientIsTheOneStepApproximation() throws {
        // With the identity in place of (I − J)⁻¹, the gradient equals backprop through one
        // application of f at z*, which phantom with one undamped step also gives.
        let free = try gradients(ToyDEQ.tightOptions(backward: .jacobianFree), toy, weights: r)
        let oneStep = try gradients(ToyDEQ.tightOptions(backward: .phantom(steps: 0, damping: 1)), toy, weights: r)
        #expect(relativeDifference(free, oneStep) < 1e-12)
    }

    @Test func broydenReuseIsCloserThanJacobianFree() throws {
        let implicit = try gradients(ToyDEQ.tightOptions(), toy, weights: r)
        var reuse = ToyDEQ.tightOptions(backward: .broydenReuse)
        reuse.forwardSolver = .broyden()
        reuse.forwardTolerance = 1e-10
        let reused = try gradients(reuse, toy, weights: r)
        let free = try gradients(ToyDEQ.tightOptions(backward: .jacobianFree), toy, weights: r)
        let reuseError = relativeDifference(reused, implicit), freeError = relativeDifference(free, implicit)
        #expect(reuseError < freeError, "reuse \(reuseError), Jacobian-free \(freeError)")
    }

    @Test func jacobianRegularizationTermGradchecks() throws {
        // The Hutchinson term at a fixed state z, with the same random vector every evaluation.
        let z = Tensor.randn([ToyDEQ.batch, ToyDEQ.width], std: 0.3, dtype: .float64, generator: RandomGenerator(seed: 4))
        let term: ([Tensor]) -> Tensor = { p in
            withGradients {
                let zLeaf = p[4].requiresGrad ? p[4] : p[4].requiringGrad()
                let out = ToyDEQ.cell(p[0], p[1], p[2])(zLeaf, p[3])
                return JacobianRegularization.frobeniusEstimate(output: out, input: zLeaf, samples: 2,
                                                                generator: RandomGenerator(seed: 5))
            }
        }
        let report = try gradcheck(term, inputs: toy.parameters + [z])
        #expect(report.passed, "\(report)")
    }

    @Test func layerExposesJacobianLossWhenWeighted() throws {
        var options = ToyDEQ.tightOptions()
        options.jacobianRegularization = 2
        let layer = DEQLayer(name: "toy", options: options)
        let p = toy.parameters.map { $0.requiringGrad() }
        let z = try layer(ToyDEQ.cell(p[0], p[1], p[2]), input: p[3], initial: Tensor.zeros([4, 16], dtype: .float64))
        let loss = z.sum() + layer.jacobianLoss!
        try loss.backward()
        #expect(layer.jacobianLoss!.item > 0)
        #expect(p[0].grad != nil)
    }
}

@Suite("DEQ layer statistics and failures") struct DEQStatisticsTests {
    @Test func statisticsDescribeBothSolves() throws {
        let toy = ToyDEQ()
        let layer = DEQLayer(name: "cell", options: ToyDEQ.tightOptions())
        let p = toy.parameters.map { $0.requiringGrad() }
        let z = try layer(ToyDEQ.cell(p[0], p[1], p[2]), input: p[3], initial: Tensor.zeros([4, 16], dtype: .float64))
        try z.sum().backward()
        let stats = try #require(layer.lastStats)
        #expect(stats.forwardStatus.isConverged)
        #expect(stats.forwardResidual < 1e-12)
        #expect(stats.backwardStatus?.isConverged == true)
        #expect(stats.backwardIterations > 0)
        #expect(stats.forwardConvergedShare == 1)
    }

    @Test func divergingSolveStopsWithLayerAndStep() throws {
        let layer = DEQLayer(name: "blowup", options: DEQOptions(forwardSolver: .fixedPoint(), forwardIterations: 200,
                                                                 onFailure: .stop))
        let x = Tensor.ones([2, 3], dtype: .float64)
        #expect {
            _ = try layer({ z, x in z * 3 + x }, input: x, initial: Tensor.zeros([2, 3], dtype: .float64))
        } throws: { error in
            let text = String(describing: error)
            return text.contains("blowup") && text.contains("step 1") && text.contains("diverged")
        }
    }

    @Test func nonFiniteSolveIsReported() throws {
        let layer = DEQLayer(name: "nan", options: DEQOptions(onFailure: .stop))
        let x = Tensor.full([2, 3], .nan, dtype: .float64)
        #expect(throws: DEQError.self) {
            _ = try layer({ z, x in z * 0.5 + x }, input: x, initial: Tensor.zeros([2, 3], dtype: .float64))
        }
    }

    @Test func evaluationReturnsTheEquilibriumWithoutTape() throws {
        let toy = ToyDEQ()
        let layer = DEQLayer(options: ToyDEQ.tightOptions())
        let z = try withoutGradients {
            try layer(ToyDEQ.cell(toy.w, toy.u, toy.b), input: toy.x, initial: Tensor.zeros([4, 16], dtype: .float64))
        }
        #expect(!z.requiresGrad)
        let residual = (ToyDEQ.cell(toy.w, toy.u, toy.b)(z, toy.x) - z).abs().max().item
        #expect(residual < 1e-12)
    }
}
