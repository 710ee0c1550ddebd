/// The zoo models whose weights convert to and from their authors' PyTorch state dicts
/// (`deq import` / `deq export`), by registry name.
public enum ReferenceModels {
    /// Computed, not stored: metatypes of a non-Sendable protocol cannot be a global constant in
    /// Swift 6 language mode.
    public static var byName: [String: any ReferenceCheckpointConvertible.Type] {
        [
            "deq-transformer": DEQTransformerLM.self,
            "deq-trellisnet": DEQTrellisNetLM.self,
        ]
    }

    /// The conforming type of `name`, or an error that lists the names that convert.
    public static func type(named name: String) throws(ModelError) -> any ReferenceCheckpointConvertible.Type {
        guard let t = byName[name] else {
            throw ModelError("\(name) has no reference checkpoint conversion; models that convert: \(byName.keys.sorted().joined(separator: ", "))")
        }
        return t
    }
}
