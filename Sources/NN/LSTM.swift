import Tensors

/// One LSTM step with PyTorch's gate order (input, forget, cell, output) and weights, all four
/// gates from one GEMM per input.
///
/// ```swift
/// let cell = LSTMCell(200, 200); let (h, c) = cell(x, state: (h0, c0))
/// ```
public final class LSTMCell: Module {
    /// [4·hidden, input] and [4·hidden, hidden].
    public var weightIH: Tensor
    public var weightHH: Tensor
    public var biasIH: Tensor
    public var biasHH: Tensor

    public init(_ inputSize: Int, _ hiddenSize: Int, dtype: DType = .float32) {
        let u = Initializer.uniform(bound: 1 / Double(hiddenSize).squareRoot())
        weightIH = u.make([4 * hiddenSize, inputSize], dtype: dtype)
        weightHH = u.make([4 * hiddenSize, hiddenSize], dtype: dtype)
        biasIH = u.make([4 * hiddenSize], dtype: dtype)
        biasHH = u.make([4 * hiddenSize], dtype: dtype)
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.parameter("weight_ih", &weightIH)
        v.parameter("weight_hh", &weightHH)
        v.parameter("bias_ih", &biasIH)
        v.parameter("bias_hh", &biasHH)
    }

    public var hiddenSize: Int { weightHH.shape[1] }

    /// Projects inputs of any leading shape: x Wᵢₕᵀ + bᵢₕ + bₕₕ (one GEMM for a whole sequence).
    public func inputGates(_ x: Tensor) -> Tensor {
        let flat = x.reshaped([-1, x.shape.last!])
        let g = flat.matmul(weightIH.T) + (biasIH + biasHH)
        return g.reshaped(Array(x.shape.dropLast()) + [4 * hiddenSize])
    }

    /// One step from precomputed input gates [batch, 4·hidden].
    public func step(inputGates gx: Tensor, state: (h: Tensor, c: Tensor)) -> (h: Tensor, c: Tensor) {
        step(inputGates: gx, recurrentWeight: weightHH, state: state)
    }

    func step(inputGates gx: Tensor, recurrentWeight: Tensor, state: (h: Tensor, c: Tensor)) -> (h: Tensor, c: Tensor) {
        let s = equations(inputGates: gx, recurrentWeight: recurrentWeight, state: state)
        return (s.h, s.c)
    }

    /// The cell equations of one step, with the intermediates a hand-written backward needs: the
    /// gates after their nonlinearities, the new cell state c, tanh(c) and the new hidden state h.
    func equations(inputGates gx: Tensor, recurrentWeight: Tensor, state: (h: Tensor, c: Tensor))
        -> (i: Tensor, f: Tensor, g: Tensor, o: Tensor, c: Tensor, tanhC: Tensor, h: Tensor) {
        let parts = (gx + state.h.matmul(recurrentWeight.T)).chunked(4, axis: 1)
        let i = parts[0].sigmoid(), f = parts[1].sigmoid(), g = parts[2].tanh(), o = parts[3].sigmoid()
        let c = f * state.c + i * g
        let tanhC = c.tanh()
        return (i, f, g, o, c, tanhC, o * tanhC)
    }

    public func callAsFunction(_ x: Tensor, state: (h: Tensor, c: Tensor)) -> (h: Tensor, c: Tensor) {
        step(inputGates: inputGates(x), state: state)
    }

    /// Zero state for a batch.
    public func zeroState(batch: Int, dtype: DType? = nil) -> (h: Tensor, c: Tensor) {
        let z = Tensor.zeros([batch, hiddenSize], dtype: dtype ?? weightHH.dtype)
        return (z, z)
    }
}

/// A stack of LSTM layers over a time-first sequence [T, batch, input]. Each layer projects the
/// whole sequence's inputs with one GEMM, then runs the recurrence; optional dropout between layers.
///
/// ```swift
/// let lstm = LSTM(200, 200, layers: 2); let (y, state) = lstm(x, state: nil)   // y: [T, B, 200]
/// ```
public final class LSTM: Module {
    public var cells: [LSTMCell]
    public let dropout: Dropout

    public init(_ inputSize: Int, _ hiddenSize: Int, layers: Int = 1, dropout: Double = 0, dtype: DType = .float32) {
        cells = (0..<layers).map { LSTMCell($0 == 0 ? inputSize : hiddenSize, hiddenSize, dtype: dtype) }
        self.dropout = Dropout(dropout)
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.children("layers", cells)
        v.child("dropout", dropout)
    }

    /// The states are one (h, c) per layer; nil starts from zeros.
    public func callAsFunction(_ x: Tensor, state: [(h: Tensor, c: Tensor)]? = nil) -> (output: Tensor, state: [(h: Tensor, c: Tensor)]) {
        guard x.rank == 3 else { fail("LSTM expects a time-first input [T, batch, features], got \(x.shape)") }
        let batch = x.shape[1]
        var input = x
        var finals: [(h: Tensor, c: Tensor)] = []
        for (l, cell) in cells.enumerated() {
            if l > 0 { input = dropout(input) }
            let gx = cell.inputGates(input)
            let s = state?[l] ?? cell.zeroState(batch: batch, dtype: x.dtype)
            let (outputs, final) = LSTMRecurrence.run(cell, inputGates: gx, state: s)
            input = outputs
            finals.append(final)
        }
        return (input, finals)
    }
}
