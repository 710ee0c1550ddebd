import CKernels

// Binary elementwise ops with NumPy broadcasting and PyTorch's type promotion, each with its VJP.
// Cotangents of broadcast operands are summed back to the operand's shape.
extension Tensor {
    /// Broadcasts and promotes two operands; names the op in any error.
    
    static func prepare(_ name: String, _ a: Tensor, _ b: Tensor) -> (Tensor, Tensor, [Int]) {
        if a.dtype == b.dtype && a.shape == b.shape { return (a, b, a.shape) }
        let shape: [Int]
        do { shape = try ShapeMath.broadcast(a.shape, b.shape) } catch {
            fail("\(name): \(error.message)")
        }
        let t = DType.promoted(a.dtype, rankA: a.rank, b.dtype, rankB: b.rank)
        return (a.to(t), b.to(t), shape)
    }

    
    static func binary(_ name: String, _ op: eq_binary_op, _ a0: Tensor, _ b0: Tensor,
                       savesInputs: Bool = true,
                       vjp: @escaping (_ g: Tensor, _ a: Tensor, _ b: Tensor, _ y: Tensor) -> (Tensor?, Tensor?),
                       saveOutput: Bool = false) -> Tensor {
        var (a, b, shape) = prepare(name, a0, b0)
        // The integer and bool kernels only have some ops; the others would leave the output
        // unwritten. atan2 of integers is a float (as in PyTorch); bool has add/mul/max/min only.
        if op == EQ_ATAN2 && !a.dtype.isFloatingPoint { a = a.to(.float32); b = b.to(.float32) }
        if a.dtype == .bool && ![EQ_ADD, EQ_MUL, EQ_MAXIMUM, EQ_MINIMUM].contains(op) {
            fail("\(name) is not defined for two bool tensors; convert one with .to(.int64) or .to(.float32) first")
        }
        let out = Kernels.binary(op, a, b, shape: shape)
        guard GradMode.isEnabled && (a.meta != nil || b.meta != nil) else { return out }
        let aShape = a.shape, bShape = b.shape
        guard savesInputs else {
            // Ops whose VJP ignores the operands keep only their shapes, so a long chain of them
            // does not keep every intermediate alive until backward.
            return record(name, out, a, b, saveOutput: saveOutput) { g, y in
                let (ga, gb) = vjp(g, .placeholder, .placeholder, y)
                return [ga?.sum(to: aShape), gb?.sum(to: bShape)]
            }
        }
        return record(name, out, a, b, saveOutput: saveOutput) { g, y in
            let (ga, gb) = vjp(g, a, b, y)
            return [ga?.sum(to: aShape), gb?.sum(to: bShape)]
        }
    }

    /// A 0-d tensor of this tensor's dtype (floating for a float scalar on an integer tensor).
    
    func scalar(_ v: Double) -> Tensor {
        let t: DType = dtype == .bool ? (v == v.rounded() ? .int64 : .float32)
            : (dtype == .int64 && v != v.rounded() ? .float32 : dtype)
        return Tensor(v, dtype: t)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        binary("add", EQ_ADD, a, b, savesInputs: false) { g, _, _, _ in (g, g) }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        binary("sub", EQ_SUB, a, b, savesInputs: false) { g, _, _, _ in (g, -g) }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        binary("mul", EQ_MUL, a, b) { g, a, b, _ in (g * b, g * a) }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binary("div", EQ_DIV, a, b) { g, a, b, _ in (g / b, -(g * a / (b * b))) }
    }

    /// a raised to b elementwise.
    public func pow(_ b: Tensor) -> Tensor {
        Tensor.binary("powTensor", EQ_POW, self, b, vjp: { g, a, b, y in
            (g * b * a.pow(b - 1), g * y * a.log())
        }, saveOutput: true)
    }

    /// Elementwise maximum; ties split the gradient evenly.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary("maximum", EQ_MAXIMUM, a, b) { g, a, b, _ in
            let w = (a .> b).to(g.dtype) + (a .== b).to(g.dtype) * 0.5
            return (g * w, g * (1 - w))
        }
    }

    /// Elementwise minimum; ties split the gradient evenly.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary("minimum", EQ_MINIMUM, a, b) { g, a, b, _ in
            let w = (a .< b).to(g.dtype) + (a .== b).to(g.dtype) * 0.5
            return (g * w, g * (1 - w))
        }
    }

    /// atan2(a, b) elementwise.
    public static func atan2(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary("atan2", EQ_ATAN2, a, b) { g, a, b, _ in
            let d = a * a + b * b
            return (g * b / d, -(g * a / d))
        }
    }

    // Scalar forms: a fused x * scale + shift where possible, so no broadcast is needed.
    public static func + (a: Tensor, b: Double) -> Tensor {
        a.dtype.isFloatingPoint ? a.affine(scale: 1, shift: b) : a + a.scalar(b)
    }
    public static func + (a: Double, b: Tensor) -> Tensor { b + a }
    public static func - (a: Tensor, b: Double) -> Tensor { a + (-b) }
    public static func - (a: Double, b: Tensor) -> Tensor {
        b.dtype.isFloatingPoint ? b.affine(scale: -1, shift: a) : b.scalar(a) - b
    }
    public static func * (a: Tensor, b: Double) -> Tensor {
        a.dtype.isFloatingPoint ? a.affine(scale: b) : a * a.scalar(b)
    }
    public static func * (a: Double, b: Tensor) -> Tensor { b * a }
    public static func / (a: Tensor, b: Double) -> Tensor { a / a.scalar(b) }
    public static func / (a: Double, b: Tensor) -> Tensor { b.scalar(a) / b }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
    public static func += (a: inout Tensor, b: Double) { a = a + b }
    public static func -= (a: inout Tensor, b: Double) { a = a - b }
    public static func *= (a: inout Tensor, b: Double) { a = a * b }
    public static func /= (a: inout Tensor, b: Double) { a = a / b }
}

// Comparisons and logic produce bool tensors and are not differentiable.
extension Tensor {
    
    static func compare(_ name: String, _ op: eq_binary_op, _ a: Tensor, _ b: Tensor) -> Tensor {
        let (x, y, shape) = prepare(name, a.detached(), b.detached())
        return Kernels.binary(op, x, y, shape: shape)
    }

    public static func .== (a: Tensor, b: Tensor) -> Tensor { compare("eq", EQ_EQ, a, b) }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { compare("ne", EQ_NE, a, b) }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { compare("lt", EQ_LT, a, b) }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { compare("le", EQ_LE, a, b) }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { compare("gt", EQ_GT, a, b) }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { compare("ge", EQ_GE, a, b) }
    public static func .== (a: Tensor, b: Double) -> Tensor { a .== a.scalar(b) }
    public static func .!= (a: Tensor, b: Double) -> Tensor { a .!= a.scalar(b) }
    public static func .< (a: Tensor, b: Double) -> Tensor { a .< a.scalar(b) }
    public static func .<= (a: Tensor, b: Double) -> Tensor { a .<= a.scalar(b) }
    public static func .> (a: Tensor, b: Double) -> Tensor { a .> a.scalar(b) }
    public static func .>= (a: Tensor, b: Double) -> Tensor { a .>= a.scalar(b) }

    public func and(_ other: Tensor) -> Tensor { logical("and", EQ_AND, other) }
    public func or(_ other: Tensor) -> Tensor { logical("or", EQ_OR, other) }
    public func xor(_ other: Tensor) -> Tensor { logical("xor", EQ_XOR, other) }

    func logical(_ name: String, _ op: eq_binary_op, _ other: Tensor) -> Tensor {
        guard dtype == .bool && other.dtype == .bool else {
            fail("\(name) needs two bool tensors, got \(dtype) and \(other.dtype)")
        }
        return Tensor.compare(name, op, self, other)
    }

    /// True where the value is NaN.
    public func isNaN() -> Tensor { self .!= self }

    /// True when every element is finite.
    public var isFinite: Bool {
        guard dtype.isFloatingPoint else { return true }
        let d = detached()
        return !(d .!= d).any() && !(d.abs() .== Double.infinity).any()
    }

    /// `a` where `condition` is true, else `b` (all three broadcast together).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard condition.dtype == .bool else {
            fail("where: the condition must be a bool tensor, got \(condition.dtype); compare with .> or .== to make one")
        }
        let (x, y, s0) = prepare("where", a, b)
        let shape: [Int]
        do { shape = try ShapeMath.broadcast(s0, condition.shape) } catch { fail("where: \(error.message)") }
        let out = Kernels.select(condition, x, y, shape: shape)
        guard GradMode.isEnabled && (x.meta != nil || y.meta != nil) else { return out }
        return record("where", out, [x, y]) { g, _ in
            let z = g.zerosLike()
            return [Tensor.where(condition, g, z).sum(to: x.shape), Tensor.where(condition, z, g).sum(to: y.shape)]
        }
    }

    /// This tensor with `value` written where `mask` is true.
    public func maskedFill(_ mask: Tensor, _ value: Double) -> Tensor {
        Tensor.where(mask, scalar(value), self)
    }
}
