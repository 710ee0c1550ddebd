import Tensors

/// One LSTM layer's recurrence over a whole sequence as one recorded operation, the way cuDNN and
/// PyTorch run it: the forward loops over time without a tape, and the first-order backward loops
/// back over time, keeping each step's gate gradients and forming the recurrent weight's gradient
/// with one GEMM over all steps, dW = Σₜ dgₜᵀ hₜ₋₁. Recorded step by step, the weight had got 35
/// small products (K = batch) and 35 in-place sums a layer, and every gate op its tape entry: the
/// part of a small-batch LSTM LM step that does not shrink with the batch.
/// A backward that is itself recorded (higher derivatives) recomputes the steps with recorded ops.
enum LSTMRecurrence {
    /// Hidden states [T, batch, hidden] and the final (h, c), from input gates [T, batch, 4·hidden].
    static func run(_ cell: LSTMCell, inputGates gx: Tensor, state: (h: Tensor, c: Tensor)) -> (outputs: Tensor, final: (h: Tensor, c: Tensor)) {
        let steps = gx.shape[0]
        guard steps > 0 else { return (Tensor.zeros([0] + state.h.shape, dtype: state.h.dtype), state) }
        let w = cell.weightHH
        // Nothing is kept for a backward that cannot happen (evaluation, generation).
        let saved = GradMode.isEnabled && [gx, w, state.h, state.c].contains(where: \.requiresGrad) ? SavedSteps() : nil
        // The output stacks h₁ … h_T and, as a last slice, c_T: Tensor.custom records one output.
        let packed = Tensor.custom("lstmRecurrence", inputs: [gx, w, state.h, state.c], forward: { xs in
            forward(cell, gx: xs[0], w: xs[1], h0: xs[2], c0: xs[3], saving: saved)
        }, backward: { g, _ in
            if GradMode.isEnabled {
                return recordedVJP(cell, gx: gx, w: w, h0: state.h, c0: state.c, cotangent: g)
            }
            return saved?.vjp(cotangent: g, w: w.detached(), h0: state.h.detached()) ?? [nil, nil, nil, nil]
        })
        let outputs = packed.narrow(0, start: 0, length: steps)
        return (outputs, (outputs.select(0, steps - 1), packed.select(0, steps)))
    }

    /// What the first-order backward needs from each step: the gates after their nonlinearities,
    /// tanh(cₜ), cₜ₋₁ and the hidden states.
    final class SavedSteps {
        var gates: [(i: Tensor, f: Tensor, g: Tensor, o: Tensor)] = []
        var tanhC: [Tensor] = [], previousC: [Tensor] = [], hidden: [Tensor] = []

        func vjp(cotangent: Tensor, w: Tensor, h0: Tensor) -> [Tensor?] {
            let steps = gates.count
            let d = cotangent.detached()
            var dh = Tensor.zeros(h0.shape, dtype: h0.dtype)
            var dc = d.select(0, steps)
            var stepGradients = [Tensor](repeating: dh, count: steps)
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let (i, f, g, o) = gates[t]
                let th = tanhC[t]
                let dht = d.select(0, t) + dh
                dc = dc + dht * o * (1 - th * th)
                let dgates = Tensor.concat([dc * g * i * (1 - i), dc * previousC[t] * f * (1 - f),
                                            dc * i * (1 - g * g), dht * th * o * (1 - o)], axis: 1)
                stepGradients[t] = dgates
                dc = dc * f
                dh = dgates.matmul(w)
            }
            let dG = Tensor.stack(stepGradients, axis: 0)                                   // [T, B, 4H]
            let previousH = Tensor.stack([h0] + hidden.dropLast(), axis: 0)                  // [T, B, H]
            let rows = dG.shape[0] * dG.shape[1]
            let dW = dG.reshaped([rows, dG.shape[2]]).T.matmul(previousH.reshaped([rows, previousH.shape[2]]))
            return [dG, dW, dh, dc]
        }
    }

    static func forward(_ cell: LSTMCell, gx: Tensor, w: Tensor, h0: Tensor, c0: Tensor, saving saved: SavedSteps?) -> Tensor {
        var state = (h: h0, c: c0)
        var outputs: [Tensor] = []
        for t in 0..<gx.shape[0] {
            let s = cell.equations(inputGates: gx.select(0, t), recurrentWeight: w, state: state)
            if let saved {
                saved.gates.append((s.i, s.f, s.g, s.o))
                saved.previousC.append(state.c)
                saved.tanhC.append(s.tanhC)
                saved.hidden.append(s.h)
            }
            state = (s.h, s.c)
            outputs.append(s.h)
        }
        outputs.append(state.c)
        return Tensor.stack(outputs, axis: 0)
    }

    /// The vector-Jacobian product with every step recorded, for gradients of gradients.
    static func recordedVJP(_ cell: LSTMCell, gx: Tensor, w: Tensor, h0: Tensor, c0: Tensor, cotangent: Tensor) -> [Tensor?] {
        var s = (h: h0, c: c0)
        var outputs: [Tensor] = []
        for t in 0..<gx.shape[0] {
            s = cell.step(inputGates: gx.select(0, t), recurrentWeight: w, state: s)
            outputs.append(s.h)
        }
        let packed = Tensor.stack(outputs + [s.c], axis: 0)
        let inputs = [gx, w, h0, c0]
        let wanted = inputs.filter(\.requiresGrad)
        guard !wanted.isEmpty else { return [nil, nil, nil, nil] }
        let grads: [Tensor]
        do {
            grads = try grad(of: packed, wrt: wanted, cotangent: cotangent, createGraph: true)
        } catch {
            fatalError("lstmRecurrence: the recorded backward failed: \(error)")
        }
        var next = grads.makeIterator()
        return inputs.map { $0.requiresGrad ? next.next() : nil }
    }
}
