/// What went wrong with a tensor operation, phrased as one sentence that names the operands
/// and what was expected.
public struct TensorError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Stops with a clear message. Tensor operators cannot throw (they are used in expressions), so a
/// bad shape, axis, dtype or index ends the program with one sentence, as PyTorch raises.

func fail(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message(), file: file, line: line)
}

func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
