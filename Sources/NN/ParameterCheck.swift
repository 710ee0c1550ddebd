import Tensors

/// Finds what a hand-written ``Module/visit(_:)`` forgot. A module's parameters exist for the
/// optimizer and the checkpoint only if `visit` reports them, so a missing `v.child` or
/// `v.parameter` silently freezes those weights and leaves them out of every checkpoint. This
/// check reads each reported module's stored properties by reflection (`Mirror`) and names every
/// trainable leaf tensor and every module found there whose parameters, buffers or train/eval
/// flag `visit` did not report.
///
/// Optimizers run it when they are built, so a model with a forgotten parameter cannot be trained.
extension Module {
    /// The dotted paths of stored trainable tensors and child modules that `visit` does not
    /// report, with what they hold, e.g. `"head (a Linear module)"`. Empty when all is reported.
    public func unreportedParameters() -> [String] {
        var modules: [(path: String, module: Module)] = [("", self)]
        var reportedModules: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
        var reportedTensors: Set<UnsafeMutableRawPointer> = []
        var v = ModuleVisitor(parameter: { _, t in reportedTensors.insert(t.baseAddress) },
                              buffer: { _, t in reportedTensors.insert(t.baseAddress) })
        v.onChild = { path, m in
            if reportedModules.insert(ObjectIdentifier(m)).inserted { modules.append((path, m)) }
        }
        visit(&v)

        var problems: [String] = []
        func inspect(_ value: Any, _ path: String, depth: Int) {
            if let t = value as? Tensor {
                if t.requiresGrad && t.isLeaf && !reportedTensors.contains(t.baseAddress) {
                    problems.append("\(path) (a trainable tensor of shape \(t.shape))")
                }
                return
            }
            if let m = value as? Module {
                // A module held but not visited is a problem when something of it is lost: a
                // parameter or buffer reported nowhere else, or a train/eval flag that would never
                // switch. (A tied decoder whose weight and bias are reported one by one is fine.)
                guard !reportedModules.contains(ObjectIdentifier(m)) else { return }
                var loses = false
                // (A frozen, unused weight — a tied decoder's own — is no loss.)
                var probe = ModuleVisitor(parameter: { _, t in loses = loses || (t.requiresGrad && !reportedTensors.contains(t.baseAddress)) },
                                          buffer: { _, t in loses = loses || !reportedTensors.contains(t.baseAddress) },
                                          mode: { _ in loses = true })
                m.visit(&probe)
                if loses { problems.append("\(path) (a \(type(of: m)) module)") }
                return
            }
            // Look inside optionals, arrays, dictionaries, tuples and plain structs (a few levels),
            // never inside other classes (solvers, caches), which own no parameters.
            let mirror = Mirror(reflecting: value)
            guard depth < 4, mirror.displayStyle != .class else { return }
            for (i, child) in mirror.children.enumerated() {
                switch mirror.displayStyle {
                case .optional: inspect(child.value, path, depth: depth + 1)
                case .collection, .set: inspect(child.value, "\(path).\(i)", depth: depth + 1)
                case .dictionary:
                    let pair = Mirror(reflecting: child.value).children.map(\.value)
                    if pair.count == 2 { inspect(pair[1], "\(path).\(pair[0])", depth: depth + 1) }
                default: inspect(child.value, "\(path).\(child.label ?? "\(i)")", depth: depth + 1)
                }
            }
        }
        for (path, module) in modules {
            var mirror: Mirror? = Mirror(reflecting: module)
            while let m = mirror {   // the class's own stored properties, then its superclasses'
                for child in m.children {
                    guard let label = child.label else { continue }
                    inspect(child.value, path.isEmpty ? label : "\(path).\(label)", depth: 0)
                }
                mirror = m.superclassMirror
            }
        }
        return problems.sorted()
    }

    /// Throws when `visit` misses a stored trainable tensor or child module, naming each one.
    public func checkParameters() throws(NNError) {
        let missed = unreportedParameters()
        guard missed.isEmpty else {
            throw NNError("\(type(of: self)).visit does not report \(missed.joined(separator: ", ")); add v.child or v.parameter for each, or they are never trained nor saved")
        }
    }
}
