import Foundation

/// Turns Ctrl-C (SIGINT) into a flag the training loop polls between steps, so it can save a
/// checkpoint before exiting instead of dying mid-update. A second Ctrl-C ends the process at once.
public enum Interrupt {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    /// Installs the handler.
    public static func install() {
        flag = 0
        signal(SIGINT) { _ in
            Interrupt.raiseFlag()
            signal(SIGINT, SIG_DFL)
        }
    }

    static func raiseFlag() { flag = 1 }

    /// True once Ctrl-C was pressed.
    public static var requested: Bool { flag != 0 }

    /// Restores the default behaviour.
    public static func uninstall() { signal(SIGINT, SIG_DFL) }
}
