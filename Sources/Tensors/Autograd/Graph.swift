/// The autograd identity of a tensor. Copies of a `Tensor` value share it, so a leaf's gradient
/// is visible through every copy, and the graph refers to tensors through it.
public final class AutogradMeta {
    /// Leaves that require gradients accumulate into `grad`.
    var requiresGrad: Bool
    /// Accumulated gradient of a leaf.
    var grad: Tensor?
    /// The operation that produced this tensor; `nil` for leaves. Settable only so that
    /// `Node.deinit` can test it for unique ownership.
    fileprivate(set) var gradFn: Node?
    /// Hooks on a leaf's gradient (non-leaf hooks live on `gradFn`).
    var hooks: [(Tensor) -> Tensor?] = []

    init(requiresGrad: Bool, gradFn: Node?) {
        self.requiresGrad = requiresGrad
        self.gradFn = gradFn
    }

    var isLeaf: Bool { gradFn == nil }
}

/// A slice of `fullShape`: every `step`-th element from `start` along `axis`.
struct SliceWindow {
    let fullShape: [Int]
    let axis: Int
    let start: Int
    let step: Int
}

/// Where an operation's output sits in its single input, for a first-order backward that adds the
/// cotangent into the input's sum there instead of building an input-sized cotangent first.
enum CotangentWindow {
    /// A slice (LSTM gate selects, attention's q/k/v split).
    case slice(SliceWindow)
    /// Rows `indices` (int64, contiguous) of an input of `fullShape` along `axis`, repeats
    /// adding up: an index-select such as an embedding lookup, whose input-sized zero-filled
    /// cotangent was then added to a tied decoder's gradient (two more passes over the table).
    case rows(fullShape: [Int], axis: Int, indices: Tensor)

    var fullShape: [Int] {
        switch self {
        case .slice(let w): w.fullShape
        case .rows(let shape, _, _): shape
        }
    }
}

/// One recorded operation. Its backward maps the cotangent of the output to cotangents of the
/// inputs, written with Tensor ops so that recording it gives higher derivatives.
public final class Node {
    /// The operation's name, for errors and debugging.
    public let name: String
    /// The inputs that take part in differentiation, by their autograd identity.
    var inputs: [AutogradMeta?]
    /// Maps (output cotangent, output) to one cotangent per input (nil where none flows).
    var backward: ((Tensor, Tensor) -> [Tensor?])?
    /// The output's data without its autograd identity (so there is no reference cycle).
    var savedOutput: Tensor?
    /// The output's shape and dtype, to check cotangents.
    let outputShape: [Int]
    let outputDType: DType
    /// Hooks on the gradient of this node's output.
    var hooks: [(Tensor) -> Tensor?] = []
    /// The backward pass's bookkeeping, kept on the node rather than in hash tables keyed by node
    /// (hashing was ~5% of a chain of recorded 8x8 adds): the cotangent accumulated so far, and
    /// the number of the last pass that visited the node.
    var pendingCotangent: Tensor? { didSet { if pendingCotangent == nil { pendingOwned = false } } }
    /// True when `pendingCotangent` is a sum the engine made, which it may add into in place.
    var pendingOwned = false
    /// Set on a slice's or index-select's node: where its output sits in its input, so a
    /// first-order backward can add the cotangent into the input's sum at that window instead of
    /// building a zero-padded copy and summing it.
    var window: CotangentWindow?
    var visitMark: UInt64 = 0

    init(name: String, inputs: [AutogradMeta?], outputShape: [Int], outputDType: DType,
         backward: @escaping (Tensor, Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
        self.outputShape = outputShape
        self.outputDType = outputDType
    }

    /// True once a backward pass has released this node's closure and saved tensors.
    var isFreed: Bool { backward == nil }

    func free() {
        backward = nil
        savedOutput = nil
        inputs = []
    }

    /// Releases the graph above this node without recursion. Left to Swift, dropping the output
    /// of a long chain (say, 100,000 unrolled iterations never run backward) releases each node
    /// from inside the previous one's deinit and overflows the stack. Instead, the inputs of
    /// every node that is about to die (it is held only by a meta that is held only here) are
    /// moved onto a work list first, so each node dies with nothing left to release recursively.
    deinit {
        var work = inputs
        inputs = []
        // Closures and saved tensors may hold the same metas; release them while `work` still
        // holds those, so that their release cannot cascade.
        backward = nil
        savedOutput = nil
        hooks = []
        while !work.isEmpty {
            guard var meta = work.removeLast(), isKnownUniquelyReferenced(&meta),
                  isKnownUniquelyReferenced(&meta.gradFn), let node = meta.gradFn else { continue }
            work.append(contentsOf: node.inputs)
            node.inputs = []
            node.backward = nil
            node.savedOutput = nil
            node.hooks = []
        }
    }
}

extension Tensor {
    /// True when gradients flow to or through this tensor.
    public var requiresGrad: Bool { meta != nil }

    /// True for tensors not produced by a recorded operation.
    public var isLeaf: Bool { meta?.gradFn == nil }

    /// The accumulated gradient of a leaf (after ``backward(_:retainGraph:createGraph:)``).
    public var grad: Tensor? {
        get { meta?.grad }
        nonmutating set { meta?.grad = newValue }
    }

    /// The recorded operation that produced this tensor.
    public var gradFn: Node? { meta?.gradFn }

    /// This tensor as a leaf that accumulates gradients.
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        var t = self
        t.meta = flag ? AutogradMeta(requiresGrad: true, gradFn: nil) : nil
        return t
    }

    /// Marks this tensor (a leaf) as requiring gradients, or not.
    public mutating func setRequiresGrad(_ flag: Bool) {
        guard flag != requiresGrad else { return }
        if !flag, let m = meta, !m.isLeaf {
            fail("setRequiresGrad(false) was called on a non-leaf tensor made by \(m.gradFn!.name); use detached() to cut it from the graph")
        }
        meta = flag ? AutogradMeta(requiresGrad: true, gradFn: nil) : nil
    }

    /// The same data, cut from the graph (shares storage).
    public func detached() -> Tensor {
        var t = self
        t.meta = nil
        return t
    }

    /// Clears a leaf's accumulated gradient.
    public func zeroGrad() { meta?.grad = nil }

    /// Registers a hook that sees this tensor's gradient as it passes during backward and may
    /// replace it by returning a new tensor (return nil to leave it unchanged).
    public func registerHook(_ hook: @escaping (Tensor) -> Tensor?) {
        guard let m = meta else {
            fail("registerHook needs a tensor that requires gradients; call requiringGrad() first")
        }
        if let node = m.gradFn { node.hooks.append(hook) } else { m.hooks.append(hook) }
    }

    /// Records an operation on the tape when gradient mode is on and some input requires
    /// gradients; otherwise returns `output` unchanged. `backward` receives the output's
    /// cotangent and the output itself (re-attached to the graph when building higher-order
    /// graphs) and returns one cotangent per input, shaped like that input.
    
    static func record(_ name: String, _ output: Tensor, _ inputs: [Tensor],
                       saveOutput: Bool = false,
                       backward: @escaping (_ g: Tensor, _ y: Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled else { return output }
        var any = false
        for t in inputs where t.meta != nil { any = true; break }
        guard any else { return output }
        return attach(Node(name: name, inputs: inputs.map { $0.meta }, outputShape: output.shape,
                           outputDType: output.dtype, backward: backward), to: output, saveOutput: saveOutput)
    }

    /// ``record(_:_:_:saveOutput:backward:)`` for a binary op, without the array of inputs (one
    /// allocation fewer per recorded op).
    static func record(_ name: String, _ output: Tensor, _ a: Tensor, _ b: Tensor, saveOutput: Bool = false,
                       backward: @escaping (_ g: Tensor, _ y: Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, a.meta != nil || b.meta != nil else { return output }
        return attach(Node(name: name, inputs: [a.meta, b.meta], outputShape: output.shape,
                           outputDType: output.dtype, backward: backward), to: output, saveOutput: saveOutput)
    }

    private static func attach(_ node: Node, to output: Tensor, saveOutput: Bool) -> Tensor {
        if saveOutput { node.savedOutput = output.detached() }
        var out = output
        out.meta = AutogradMeta(requiresGrad: true, gradFn: node)
        return out
    }
}
