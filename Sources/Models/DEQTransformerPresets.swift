import DEQ
import Solvers

extension DEQTransformerLM.Configuration {
    /// The small preset: a DEQ-Transformer that trains on WikiText-2 on a laptop in minutes.
    ///
    /// Width 128, 4 heads, feed-forward 512 (4×), memory of 64 positions (use segments of
    /// ``DEQTransformerLM/smallSegmentLength`` tokens), dropout 0.1, and adaptive input and
    /// softmax with cutoffs [2000, 10000] and divisor 4 (WikiText-2's vocabulary is 33,278 words).
    /// Pair it with ``DEQOptions/smallTransformer``.
    ///
    /// ```swift
    /// let model = DEQTransformerLM(.small(vocabulary: 33_278), options: .smallTransformer)
    /// ```
    public static func small(vocabulary: Int) -> Self {
        // Cutoffs must lie inside the vocabulary; a tiny vocabulary falls back to a plain softmax.
        let cutoffs = vocabulary > 10_000 ? [2000, 10_000] : []
        return Self(vocabulary: vocabulary, modelSize: 128, heads: 4, feedForward: 512,
                    memoryLength: DEQTransformerLM.smallSegmentLength, dropout: 0.1, cutoffs: cutoffs, divisor: 4)
    }
}

extension DEQTransformerLM {
    /// Tokens per segment (and memory length) of the small preset.
    public static let smallSegmentLength = 64
}

extension DEQOptions {
    /// The solver settings of the small DEQ-Transformer preset: Anderson (window 5) forward with
    /// f_thres 12, implicit backward by Anderson with b_thres 12, relative tolerance 1e-3.
    public static var smallTransformer: DEQOptions {
        DEQOptions(forwardSolver: .anderson(window: 5), forwardIterations: 12, forwardTolerance: 1e-3,
                   stopMode: .relative,
                   backward: .implicit(solver: .anderson(window: 5), iterations: 12, tolerance: 1e-3))
    }
}
