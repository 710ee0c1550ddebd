import CKernels
import Foundation

/// Which OpenBLAS kernels run, and the re-launch that picks fast ones on CPUs newer than the
/// installed OpenBLAS (see `Sources/CKernels/blas_core.c` for the measurement behind it).
public enum BLASCore {
    /// The kernel family OpenBLAS chose at load time, e.g. "Haswell", "SkylakeX", "Prescott".
    public static var name: String { String(cString: eq_blas_core_name()) }

    /// The kernel family this CPU's features allow, when OpenBLAS fell back to a generic one (or
    /// to AVX2 kernels on a CPU with AVX-512) and `OPENBLAS_CORETYPE` is not set; nil otherwise.
    public static var recommended: String? { eq_blas_recommended_core().map { String(cString: $0) } }

    /// A note for benchmark headers when `OPENBLAS_CORETYPE` (set by the user or the machine, so
    /// kept) pins kernels slower than this CPU allows: on a Zen 5 machine whose environment sets
    /// Haswell, sgemm runs at half the rate of the SkylakeX kernels. nil otherwise.
    public static var pinnedSlowerNote: String? {
        guard let set = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], let faster = eq_blas_faster_core() else { return nil }
        return "OPENBLAS_CORETYPE=\(set) is set and keeps OpenBLAS on \(name) kernels; this CPU runs the \(String(cString: faster)) kernels faster (about 2x on sgemm): unset the variable or set OPENBLAS_CORETYPE=\(String(cString: faster))"
    }

    /// When OpenBLAS chose slower kernels than the CPU allows, runs this program again from the start with
    /// `OPENBLAS_CORETYPE` set to the recommended family (OpenBLAS reads it only while loading).
    /// Returns without doing anything otherwise, or when the re-launch is impossible. Call it
    /// first thing in `main`, before any other work. `EQ_BLAS_RELAUNCH=0` turns it off.
    public static func relaunchWithFastKernelsIfNeeded() {
        guard ProcessInfo.processInfo.environment["EQ_BLAS_RELAUNCH"] != "0", let core = recommended else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returned: it failed; go on with the kernels we have.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
