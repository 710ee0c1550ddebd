import Foundation

/// Turns Ctrl-C (SIGINT) and a job scheduler's SIGTERM into a flag the training loop polls
/// between steps, so it saves a checkpoint before exiting instead of dying mid-update. A second
/// signal of the same kind ends the process at once.
public enum Interrupt {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    /// Installs the handlers.
    public static func install() {
        flag = 0
        // A launcher may start us with these signals blocked (inherited mask): unblock them.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        signal(SIGINT) { _ in
            Interrupt.raiseFlag(SIGINT)
            signal(SIGINT, SIG_DFL)
        }
        signal(SIGTERM) { _ in
            Interrupt.raiseFlag(SIGTERM)
            signal(SIGTERM, SIG_DFL)
        }
    }

    static func raiseFlag(_ signal: Int32 = SIGINT) { flag = sig_atomic_t(signal) }

    /// True once Ctrl-C was pressed or SIGTERM arrived.
    public static var requested: Bool { flag != 0 }

    /// The signal that asked to stop (SIGINT or SIGTERM), 0 before one arrives. The command
    /// exits with 128 + it, as a shell reports a process ended by that signal.
    public static var signalNumber: Int32 { Int32(flag) }

    /// The signal's name for messages.
    public static var signalName: String { flag == SIGTERM ? "SIGTERM" : "Ctrl-C" }

    /// Restores the default behaviour.
    public static func uninstall() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
