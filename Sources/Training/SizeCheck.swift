import Foundation

/// Sizes checked against the data and the machine before the run allocates its windows, so a
/// mistyped flag is an error naming it instead of a process the kernel kills.
enum SizeCheck {
    /// A window must fit in each training stream (the corpus split into --batch-size streams).
    static func window(bptt: Int, batchSize: Int, streamLength: Int, tokens: Int, split: String) throws(TrainingError) {
        guard bptt < streamLength else {
            throw TrainingError("--bptt \(bptt) is longer than each training stream: the \(split) split's \(tokens) tokens in --batch-size \(batchSize) streams give \(streamLength) tokens each; pass --bptt below \(streamLength) (or a smaller --batch-size)")
        }
    }

    /// A lower bound of the bytes a step holds: weights, gradients and two optimizer slots
    /// (4 × parameters), the output layer's logits, softmax and their gradient for one window
    /// (3 × bptt × batch × vocabulary), and the activations the window keeps for the backward
    /// pass (``ModelSizeEstimate/activationsPerToken`` × bptt × batch), all float32.
    static func estimate(parameters: Double, activationsPerToken: Double = 0, bptt: Int, batchSize: Int, evalBatchSize: Int,
                         vocabulary: Int) -> (weights: Double, window: Double) {
        let weights = 4.0 * parameters * 4
        let logits = 3.0 * Double(bptt) * Double(max(batchSize, evalBatchSize)) * Double(vocabulary) * 4
        let window = logits + activationsPerToken * Double(bptt) * Double(batchSize) * 4
        return (weights, window)
    }

    /// The memory the run may use: `EQ_MEMORY_LIMIT` (bytes) when set, else the smaller of the
    /// machine's memory and the cgroup's limit (a container's or a job's).
    static var availableMemory: Double {
        if let s = ProcessInfo.processInfo.environment["EQ_MEMORY_LIMIT"], let v = Double(s), v > 0 { return v }
        var limit = Double(ProcessInfo.processInfo.physicalMemory)
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let v = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), v > 0 { limit = min(limit, v) }
        }
        return limit
    }

    static func memory(parameters: Double, activationsPerToken: Double = 0, bptt: Int, batchSize: Int, evalBatchSize: Int,
                       vocabulary: Int, modelSizes: [String: String] = [:], available: Double = availableMemory) throws(TrainingError) {
        let (weights, window) = estimate(parameters: parameters, activationsPerToken: activationsPerToken, bptt: bptt,
                                         batchSize: batchSize, evalBatchSize: evalBatchSize, vocabulary: vocabulary)
        guard weights + window > available else { return }
        func gb(_ b: Double) -> String { String(format: b >= 1e13 ? "%.2e GB" : "%.1f GB", b / 1e9) }
        // The sizes the run set, largest first: the likeliest typo.
        let given = modelSizes.compactMap { k, v in Double(v).map { (k, v, $0) } }.sorted { $0.2 > $1.2 }.prefix(3)
        let fix = window >= weights
            ? "lower --bptt or --batch-size (and --eval-batch-size)"
            : given.isEmpty ? "lower the model sizes (--nhid, --emsize, --nlayers or the model's options)"
                : "lower the model sizes: \(given.map { "--\($0.0) \($0.1)" }.joined(separator: ", "))"
        throw TrainingError("this run needs at least \(gb(weights + window)) (\(gb(weights)) for the weights, gradients and optimizer state, \(gb(window)) for the logits and activations of one --bptt \(bptt) window of --batch-size \(batchSize) over \(vocabulary) symbols) but \(gb(available)) are available; \(fix)")
    }
}
