import Foundation

/// A learning rate as a function of the step number (steps count from 0).
public protocol LearningRateSchedule {
    func learningRate(at step: Int) -> Double
}

extension LearningRateSchedule {
    /// Sets the optimizer's rate for `step`.
    public func apply(to optimizer: Optimizer, step: Int) { optimizer.learningRate = learningRate(at: step) }
}

/// η₀ · γ^⌊step / stepSize⌋.
public struct StepDecay: LearningRateSchedule {
    public var base: Double, stepSize: Int, gamma: Double
    public init(base: Double, stepSize: Int, gamma: Double = 0.1) {
        precondition(stepSize > 0, "StepDecay needs a positive stepSize")
        self.base = base; self.stepSize = stepSize; self.gamma = gamma
    }
    public func learningRate(at step: Int) -> Double { base * pow(gamma, Double(step / stepSize)) }
}

/// η₀ · γ^step.
public struct ExponentialDecay: LearningRateSchedule {
    public var base: Double, gamma: Double
    public init(base: Double, gamma: Double) { self.base = base; self.gamma = gamma }
    public func learningRate(at step: Int) -> Double { base * pow(gamma, Double(step)) }
}

/// η₀ · (step + 1) / warmup during warm-up, then η₀.
public struct LinearWarmup: LearningRateSchedule {
    public var base: Double, warmup: Int
    public init(base: Double, warmup: Int) { self.base = base; self.warmup = warmup }
    public func learningRate(at step: Int) -> Double {
        step < warmup ? base * Double(step + 1) / Double(warmup) : base
    }
}

/// Linear warm-up to η₀, then a half cosine from η₀ down to `minimum` at `total` steps
/// (Transformer-XL's schedule): η = min + (η₀ − min)(1 + cos(π (s − w)/(T − w)))/2.
public struct CosineWithWarmup: LearningRateSchedule {
    public var base: Double, warmup: Int, total: Int, minimum: Double
    /// A `total` at or below `warmup` (a short run of a long preset, `--max-step 5`) leaves only
    /// the warm-up, and the rate stays at `minimum` after it.
    public init(base: Double, warmup: Int = 0, total: Int, minimum: Double = 0) {
        self.base = base; self.warmup = warmup; self.total = total; self.minimum = minimum
    }
    public func learningRate(at step: Int) -> Double {
        if step < warmup { return base * Double(step + 1) / Double(warmup) }
        let progress = total > warmup ? Swift.min(1, Double(step - warmup) / Double(total - warmup)) : 1
        return minimum + (base - minimum) * (1 + cos(Double.pi * progress)) / 2
    }
}

/// Linear warm-up, then decay with the inverse square root of the step:
/// η₀ · (s+1)/w before w, η₀ · √(w / (s+1)) after (continuous at s + 1 = w).
public struct InverseSquareRoot: LearningRateSchedule {
    public var base: Double, warmup: Int
    public init(base: Double, warmup: Int) {
        precondition(warmup > 0, "InverseSquareRoot needs a positive warmup")
        self.base = base; self.warmup = warmup
    }
    public func learningRate(at step: Int) -> Double {
        let s = Double(step + 1), w = Double(warmup)
        return s < w ? base * s / w : base * (w / s).squareRoot()
    }
}

/// Multiplies the rate by `factor` when a monitored metric (lower is better) has not improved by
/// more than a relative `threshold` for `patience` consecutive reports; then waits `cooldown` reports.
public final class ReduceOnPlateau {
    public private(set) var learningRate: Double
    public let factor: Double, patience: Int, threshold: Double, cooldown: Int, minimum: Double
    public private(set) var best = Double.infinity
    var badReports = 0
    var cooldownLeft = 0

    public init(base: Double, factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4,
                cooldown: Int = 0, minimum: Double = 0) {
        precondition(factor > 0 && factor < 1, "ReduceOnPlateau needs 0 < factor < 1")
        learningRate = base
        self.factor = factor; self.patience = patience; self.threshold = threshold
        self.cooldown = cooldown; self.minimum = minimum
    }

    /// Reports a metric value and returns the (possibly reduced) rate.
    @discardableResult
    public func report(_ metric: Double) -> Double {
        if metric < best * (1 - threshold) {
            best = metric
            badReports = 0
        } else {
            badReports += 1
        }
        if cooldownLeft > 0 {
            cooldownLeft -= 1
            badReports = 0
        }
        if badReports > patience {
            learningRate = Swift.max(learningRate * factor, minimum)
            cooldownLeft = cooldown
            badReports = 0
        }
        return learningRate
    }
}
