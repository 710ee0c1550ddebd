import CKernels

/// The element type of a ``Tensor``, chosen at run time as in PyTorch.
public enum DType: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case float32 = 0
    case float64 = 1
    case int64 = 2
    /// One byte per element, 0 or 1; comparisons produce it and masks consume it.
    case bool = 3

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32: return 4
        case .float64, .int64: return 8
        case .bool: return 1
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    public var description: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .int64: return "int64"
        case .bool: return "bool"
        }
    }

    /// The C kernels' code for this type.
    var code: Int32 { rawValue }

    /// Rank in type promotion: bool < int64 < float32 < float64.
    var promotionRank: Int {
        switch self {
        case .bool: return 0
        case .int64: return 1
        case .float32: return 2
        case .float64: return 3
        }
    }

    /// The type two operands are computed in, following PyTorch: a 0-d operand does not raise a
    /// dimensioned operand of the same category (a float64 scalar keeps a float32 tensor float32).
    static func promoted(_ a: DType, rankA: Int, _ b: DType, rankB: Int) -> DType {
        if a == b { return a }
        if rankA == 0 && rankB > 0 && a.isFloatingPoint == b.isFloatingPoint { return b }
        if rankB == 0 && rankA > 0 && a.isFloatingPoint == b.isFloatingPoint { return a }
        if rankA == 0 && rankB > 0 && a.isFloatingPoint && !b.isFloatingPoint { return .float32 }
        if rankB == 0 && rankA > 0 && b.isFloatingPoint && !a.isFloatingPoint { return .float32 }
        return a.promotionRank >= b.promotionRank ? a : b
    }
}

/// Swift types that can be stored in a ``Tensor``.
public protocol TensorScalar: Sendable {
    static var dtype: DType { get }
    init(fromDouble value: Double)
    var asDouble: Double { get }
}

extension Float: TensorScalar {
    public static var dtype: DType { .float32 }
    public init(fromDouble value: Double) { self = Float(value) }
    public var asDouble: Double { Double(self) }
}

extension Double: TensorScalar {
    public static var dtype: DType { .float64 }
    public init(fromDouble value: Double) { self = value }
    public var asDouble: Double { self }
}

extension Int64: TensorScalar {
    public static var dtype: DType { .int64 }
    public init(fromDouble value: Double) { self = Int64(value) }
    public var asDouble: Double { Double(self) }
}

extension Int: TensorScalar {
    public static var dtype: DType { .int64 }
    public init(fromDouble value: Double) { self = Int(value) }
    public var asDouble: Double { Double(self) }
}

extension Bool: TensorScalar {
    public static var dtype: DType { .bool }
    public init(fromDouble value: Double) { self = value != 0 }
    public var asDouble: Double { self ? 1 : 0 }
}
