import CKernels

// Unary elementwise ops, each with its vector-Jacobian product beside it. The VJPs are written
// with Tensor ops, so that recording them (createGraph) gives higher derivatives.
extension Tensor {
    /// Runs a unary kernel and records it with `vjp(g, x, y)`.
    
    func unary(_ name: String, _ op: eq_unary_op, _ p0: Double = 0, _ p1: Double = 0,
               integers: Bool = false, saveOutput: Bool = false, savesInput: Bool = true,
               vjp: @escaping (_ g: Tensor, _ x: Tensor, _ y: Tensor) -> Tensor?) -> Tensor {
        guard dtype.isFloatingPoint || (integers && dtype == .int64) else {
            fail("\(name) is not defined for \(dtype) tensors; convert with .to(.float32) first")
        }
        let out = Kernels.unary(op, self, p0, p1)
        guard GradMode.isEnabled && meta != nil else { return out }
        // VJPs that use only g and y do not keep the input alive until backward.
        let x = savesInput ? self : .placeholder
        return Tensor.record(name, out, [self], saveOutput: saveOutput) { g, y in [vjp(g, x, y)] }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        x.unary("neg", EQ_NEG, integers: true, savesInput: false) { g, _, _ in -g }
    }

    public func exp() -> Tensor { unary("exp", EQ_EXP, saveOutput: true, savesInput: false) { g, _, y in g * y } }
    public func log() -> Tensor { unary("log", EQ_LOG) { g, x, _ in g / x } }
    public func log1p() -> Tensor { unary("log1p", EQ_LOG1P) { g, x, _ in g / (x + 1) } }
    public func expm1() -> Tensor { unary("expm1", EQ_EXPM1, saveOutput: true, savesInput: false) { g, _, y in g * (y + 1) } }
    public func sqrt() -> Tensor { unary("sqrt", EQ_SQRT, saveOutput: true, savesInput: false) { g, _, y in g / (y * 2) } }
    public func rsqrt() -> Tensor {
        unary("rsqrt", EQ_RSQRT, saveOutput: true, savesInput: false) { g, _, y in g * (y * y * y) * -0.5 }
    }
    public func abs() -> Tensor { unary("abs", EQ_ABS, integers: true) { g, x, _ in g * x.sign() } }
    /// -1, 0 or 1 (NaN stays NaN); its gradient is zero.
    public func sign() -> Tensor { unary("sign", EQ_SIGN, integers: true) { _, _, _ in nil } }
    public func square() -> Tensor { unary("square", EQ_SQUARE, integers: true) { g, x, _ in g * x * 2 } }
    public func reciprocal() -> Tensor {
        unary("reciprocal", EQ_RECIPROCAL, saveOutput: true, savesInput: false) { g, _, y in -(g * y * y) }
    }
    public func sin() -> Tensor { unary("sin", EQ_SIN) { g, x, _ in g * x.cos() } }
    public func cos() -> Tensor { unary("cos", EQ_COS) { g, x, _ in -(g * x.sin()) } }
    public func erf() -> Tensor {
        unary("erf", EQ_ERF) { g, x, _ in g * (x.square() * -1).exp() * 1.1283791670955126 }
    }

    public func tanh() -> Tensor {
        unary("tanh", EQ_TANH, saveOutput: true, savesInput: false) { g, _, y in Tensor.tanhBackward(g, y) }
    }

    public func sigmoid() -> Tensor {
        unary("sigmoid", EQ_SIGMOID, saveOutput: true, savesInput: false) { g, _, y in Tensor.sigmoidBackward(g, y) }
    }

    public func relu() -> Tensor {
        unary("relu", EQ_RELU, integers: true) { g, x, _ in Tensor.reluBackward(g, x) }
    }

    /// Gaussian error linear unit, x Φ(x) (the exact form).
    public func gelu() -> Tensor {
        unary("gelu", EQ_GELU) { g, x, _ in Tensor.geluBackward(g, x) }
    }

    /// log(1 + exp(x)), computed without overflow.
    public func softplus() -> Tensor {
        unary("softplus", EQ_SOFTPLUS) { g, x, _ in Tensor.softplusBackward(g, x) }
    }

    /// Values limited to [lower, upper]; the gradient passes where the input is inside.
    public func clamped(min lower: Double = -.infinity, max upper: Double = .infinity) -> Tensor {
        guard lower <= upper else { fail("clamped: min (\(lower)) must not exceed max (\(upper))") }
        return unary("clamp", EQ_CLAMP, lower, upper, integers: true) { g, x, _ in
            let inside = (x .>= lower).and(x .<= upper)
            return Tensor.where(inside, g, g.zerosLike())
        }
    }

    /// x raised to a constant power.
    public func pow(_ exponent: Double) -> Tensor {
        if exponent == 1 { return self }
        return unary("pow", EQ_POW_SCALAR, exponent) { g, x, _ in
            exponent == 2 ? g * x * 2 : g * x.pow(exponent - 1) * exponent
        }
    }

    /// x * scale + shift in one pass.
    public func affine(scale: Double, shift: Double = 0) -> Tensor {
        unary("affine", EQ_AFFINE, scale, shift, integers: true, savesInput: false) { g, _, _ in
            scale == 1 ? g : g.affine(scale: scale)
        }
    }

    /// Logical not of a bool tensor.
    public func logicalNot() -> Tensor {
        guard dtype == .bool else { fail("logicalNot needs a bool tensor, got \(dtype)") }
        return Kernels.unary(EQ_LOGICAL_NOT, self)
    }
}

// Fused backward helpers. Each is itself a differentiable op so that second derivatives work.
extension Tensor {
    /// g * (1 - y²) where y = tanh(x).
    static func tanhBackward(_ g: Tensor, _ y: Tensor) -> Tensor {
        let out = Kernels.binary(EQ_TANH_BWD, g, y, shape: g.shape)
        return record("tanhBackward", out, [g, y]) { gg, _ in
            [tanhBackward(gg, y), gg * g * y * -2]
        }
    }

    /// g * y (1 - y) where y = sigmoid(x).
    static func sigmoidBackward(_ g: Tensor, _ y: Tensor) -> Tensor {
        let out = Kernels.binary(EQ_SIGMOID_BWD, g, y, shape: g.shape)
        return record("sigmoidBackward", out, [g, y]) { gg, _ in
            [sigmoidBackward(gg, y), gg * g * (y * -2 + 1)]
        }
    }

    /// g where x > 0, else 0.
    static func reluBackward(_ g: Tensor, _ x: Tensor) -> Tensor {
        let out = Kernels.binary(EQ_RELU_BWD, g, x.detached(), shape: g.shape)
        return record("reluBackward", out, [g]) { gg, _ in [reluBackward(gg, x)] }
    }

    /// g * gelu'(x).
    static func geluBackward(_ g: Tensor, _ x: Tensor) -> Tensor {
        let out = Kernels.binary(EQ_GELU_BWD, g, x, shape: g.shape)
        return record("geluBackward", out, [g, x]) { gg, _ in
            // gelu''(x) = φ(x) (2 - x²)
            let pdf = (x.square() * -0.5).exp() * 0.3989422804014327
            return [geluBackward(gg, x), gg * g * pdf * (2 - x.square())]
        }
    }

    /// g * sigmoid(x).
    static func softplusBackward(_ g: Tensor, _ x: Tensor) -> Tensor {
        let out = Kernels.binary(EQ_SOFTPLUS_BWD, g, x, shape: g.shape)
        return record("softplusBackward", out, [g, x]) { gg, _ in
            let s = x.sigmoid()
            return [softplusBackward(gg, x), gg * g * s * (1 - s)]
        }
    }
}
