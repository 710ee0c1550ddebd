import Foundation

/// Where the CUDA libraries are looked for, in order:
/// 1. each directory of `EQ_CUDA_LIBS` (colon-separated);
/// 2. the dynamic loader's own search (LD_LIBRARY_PATH, ldconfig's cache: a system toolkit/driver);
/// 3. for cuBLAS and NVRTC, the pip wheels' folders in every Python site-packages found
///    (`$VIRTUAL_ENV`, `~/.local`, pyenv, /usr/local, /usr): `nvidia/cu13/lib` (CUDA 13 wheels,
///    as torch pulls in) and `nvidia/cublas/lib`, `nvidia/cuda_nvrtc/lib` (CUDA 12 wheels).
/// The driver (libcuda.so.1) ships with the NVIDIA kernel driver, never in a wheel.
enum LibraryLocator {
    struct Library {
        let name: String           // for messages
        let sonames: [String]
        let wheelDirs: [String]    // relative to site-packages
        let hint: String
    }

    static let driver = Library(
        name: "the CUDA driver (libcuda.so.1)", sonames: ["libcuda.so.1", "libcuda.so"], wheelDirs: [],
        hint: "It comes with the NVIDIA driver (no GPU driver is installed on this machine?); set EQ_CUDA_LIBS to its folder if it is elsewhere.")
    static let cublas = Library(
        name: "cuBLAS (libcublas)", sonames: ["libcublas.so.13", "libcublas.so.12", "libcublas.so"],
        wheelDirs: ["nvidia/cu13/lib", "nvidia/cublas/lib"],
        hint: "Install it with `pip install nvidia-cublas` (or nvidia-cublas-cu12), or set EQ_CUDA_LIBS to the folder holding libcublas.so.*.")
    static let nvrtc = Library(
        name: "NVRTC (libnvrtc)", sonames: ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"],
        wheelDirs: ["nvidia/cu13/lib", "nvidia/cuda_nvrtc/lib"],
        hint: "Install it with `pip install nvidia-cuda-nvrtc` (or nvidia-cuda-nvrtc-cu12), or set EQ_CUDA_LIBS to the folder holding libnvrtc.so.*.")

    /// The candidate paths for a library, most preferred first (bare sonames mean "ask dlopen").
    static func candidates(for lib: Library, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for dir in (environment["EQ_CUDA_LIBS"] ?? "").split(separator: ":").map(String.init) where !dir.isEmpty {
            for so in lib.sonames { out.append(dir + "/" + so) }
        }
        out += lib.sonames
        for site in sitePackages(environment: environment) {
            for sub in lib.wheelDirs {
                for so in lib.sonames where fm.fileExists(atPath: site + "/" + sub + "/" + so) {
                    out.append(site + "/" + sub + "/" + so)
                }
            }
        }
        return out
    }

    /// Python site-packages folders that exist on this machine.
    static func sitePackages(environment: [String: String]) -> [String] {
        let fm = FileManager.default
        var roots: [String] = []
        if let venv = environment["VIRTUAL_ENV"] { roots.append(venv + "/lib") }
        if let conda = environment["CONDA_PREFIX"] { roots.append(conda + "/lib") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        roots.append(home + "/.local/lib")
        let pyenv = environment["PYENV_ROOT"] ?? home + "/.pyenv"
        if let versions = try? fm.contentsOfDirectory(atPath: pyenv + "/versions") {
            roots += versions.sorted().map { pyenv + "/versions/" + $0 + "/lib" }
        }
        roots += ["/usr/local/lib", "/usr/lib"]
        var out: [String] = []
        for root in roots {
            guard let entries = try? fm.contentsOfDirectory(atPath: root) else { continue }
            for e in entries.sorted() where e.hasPrefix("python3") {
                for leaf in ["site-packages", "dist-packages"] {
                    let p = root + "/" + e + "/" + leaf
                    var isDir: ObjCBool = false
                    if fm.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue { out.append(p) }
                }
            }
        }
        return out
    }
}
