import CKernels

/// Whether operations record onto the tape. The flag is per thread.
public enum GradMode {
    /// True while operations record gradients on this thread.
    public static var isEnabled: Bool {
        get { eq_grad_enabled() != 0 }
        set { eq_set_grad_enabled(newValue ? 1 : 0) }
    }
}

/// Runs `body` without recording anything on the tape (like `torch.no_grad()`).

public func withoutGradients<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    let previous = GradMode.isEnabled
    GradMode.isEnabled = false
    defer { GradMode.isEnabled = previous }
    return try body()
}

/// Runs `body` with recording switched on (inside a no-grad scope, for example).

public func withGradients<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    let previous = GradMode.isEnabled
    GradMode.isEnabled = true
    defer { GradMode.isEnabled = previous }
    return try body()
}
