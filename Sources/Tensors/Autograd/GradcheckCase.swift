/// One differentiable operation set up for a gradient check: how to make its float64 inputs and
/// the function that applies it. The same cases drive the test suite and `deq gradcheck --ops`.
public struct GradcheckCase: Sendable, CustomStringConvertible {
    /// A short unique name, e.g. `"mul broadcast transposed"`; the first word is the operation.
    public let name: String
    /// Whether the second-order check (``gradgradcheck(_:inputs:eps:tolerance:floor:seed:)``) applies.
    public let twiceDifferentiable: Bool
    /// The finite-difference step.
    public let eps: Double
    /// Makes the inputs; floating ones are checked, integer and bool ones (indices, masks) are not.
    let make: @Sendable (RandomGenerator) -> [Tensor]
    /// The function under test. Views that make operands non-contiguous happen inside it, so
    /// gradients also flow through them.
    public let function: @Sendable ([Tensor]) -> Tensor

    public init(_ name: String, twice: Bool = true, eps: Double = 1e-6,
                inputs: @escaping @Sendable (RandomGenerator) -> [Tensor],
                _ function: @escaping @Sendable ([Tensor]) -> Tensor) {
        self.name = name
        self.twiceDifferentiable = twice
        self.eps = eps
        self.make = inputs
        self.function = function
    }

    public var description: String { name }

    /// The inputs drawn from a generator seeded by the case's name (stable across runs).
    public func makeInputs(seed: UInt64 = 0) -> [Tensor] {
        make(RandomGenerator(seed: seed ^ GradcheckCase.stableHash(name)))
    }

    /// Runs the first-order check, and the second-order one when it applies.
    public func check(tolerance: Double = 1e-6, seed: UInt64 = 0) throws -> GradcheckOutcome {
        let xs = makeInputs(seed: seed)
        let first = try gradcheck(function, inputs: xs, eps: eps, tolerance: tolerance)
        let second = twiceDifferentiable
            ? try gradgradcheck(function, inputs: xs, eps: eps, tolerance: tolerance) : nil
        return GradcheckOutcome(name: name, first: first, second: second)
    }

    /// FNV-1a over the UTF-8 bytes; Swift's `hashValue` changes from run to run.
    static func stableHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }
}

/// The result of checking one ``GradcheckCase``.
public struct GradcheckOutcome: Sendable, CustomStringConvertible {
    public let name: String
    public let first: GradcheckReport
    /// Nil when the case is not twice differentiable.
    public let second: GradcheckReport?

    public var passed: Bool { first.passed && (second?.passed ?? true) }

    public var description: String {
        var s = "\(name): first order \(first)"
        if let second { s += "\nsecond order \(second)" }
        return s
    }
}
