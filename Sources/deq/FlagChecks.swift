import ArgumentParser

/// Checks flags that no library type reads before using them (benchmark repeats, loop lengths,
/// print intervals): a count below `minimum` is refused with the flag's name, never reaching a
/// `0..<n` or `x % n` that would stop the process.
func requireAtLeast(_ minimum: Int, _ flags: KeyValuePairs<String, Int>) throws {
    for (name, value) in flags where value < minimum {
        throw ValidationError("--\(name) must be at least \(minimum), got \(value)")
    }
}

/// A number of seconds or a tolerance given on the command line: finite and above `lower`.
func requireAbove(_ lower: Double, _ name: String, _ value: Double) throws {
    guard value.isFinite, value > lower else { throw ValidationError("--\(name) must be a number above \(lower), got \(value)") }
}
