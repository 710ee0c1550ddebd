import CCUDA
import Foundation

/// One CUDA device as the driver reports it.
public struct CUDADeviceInfo: Sendable, CustomStringConvertible {
    public let ordinal: Int
    public let name: String
    public let computeCapability: (major: Int, minor: Int)
    public let totalMemory: Int

    public var description: String {
        "cuda:\(ordinal) \(name) (compute \(computeCapability.major).\(computeCapability.minor), \(totalMemory >> 20) MiB)"
    }
}

/// The loaded driver, cuBLAS and NVRTC, the devices, and per device a cuBLAS handle and the
/// compiled kernels. Loaded once per process (``shared()``); every CUDA call runs under one lock
/// with the device's primary context current (``withDevice(_:_:)``), so the ops are safe to call
/// from any thread and run in order on the default stream.
// @unchecked Sendable: the loaded symbols and device list are fixed after loading; every call into
// the driver, cuBLAS or NVRTC and every cache update runs under the one lock (withDevice).
public final class CUDARuntime: @unchecked Sendable {
    public let devices: [CUDADeviceInfo]
    /// The driver's CUDA version (e.g. 13000) and NVRTC's (major, minor).
    public let driverVersion: Int
    public let nvrtcVersion: (major: Int, minor: Int)
    /// The library files that were opened, for `deq info`-style reports.
    public let libraryPaths: [String: String]

    // Recursive: a CUDATensor released inside a locked region frees its buffer under the lock.
    private let lock = NSRecursiveLock()
    private var cublasHandles: [Int: OpaquePointer] = [:]
    private var kernels: [Int: KernelModule] = [:]

    private static let loaded: Result<CUDARuntime, CUDAError> = {
        do { return .success(try CUDARuntime()) } catch let e as CUDAError { return .failure(e) } catch {
            return .failure(.unavailable(reasons: ["\(error)"]))
        }
    }()

    /// The process's runtime, or the error that says what is missing (all of it, at once).
    public static func shared() throws -> CUDARuntime { try loaded.get() }

    /// Why CUDA cannot be used here, or nil when it can: the skip message of the GPU tests.
    public static var unavailableReason: String? {
        if case .failure(let e) = loaded { return e.description }
        return nil
    }

    private init() throws {
        var opened: [String: String] = [:]
        var missing: [String] = []
        for (bit, lib) in [(EQ_CU_HAVE_DRIVER, LibraryLocator.driver), (EQ_CU_HAVE_CUBLAS, LibraryLocator.cublas),
                           (EQ_CU_HAVE_NVRTC, LibraryLocator.nvrtc)] {
            let (path, failure) = Self.open(Int32(bit), lib)
            if let path { opened[lib.name] = path } else { missing.append(failure) }
        }
        if !missing.isEmpty { throw CUDAError.unavailable(reasons: missing) }
        libraryPaths = opened

        try Self.check("cuInit", eq_cu_init())
        var v: Int32 = 0
        try Self.check("cuDriverGetVersion", eq_cu_driver_version(&v))
        driverVersion = Int(v)
        var major: Int32 = 0, minor: Int32 = 0
        _ = eq_nvrtc_version(&major, &minor)
        nvrtcVersion = (Int(major), Int(minor))
        var count: Int32 = 0
        try Self.check("cuDeviceGetCount", eq_cu_device_count(&count))
        if count == 0 { throw CUDAError.unavailable(reasons: ["the CUDA driver loaded but reports no device"]) }
        var found: [CUDADeviceInfo] = []
        for i in 0..<Int(count) {
            var name = [CChar](repeating: 0, count: 256)
            try Self.check("cuDeviceGetName", eq_cu_device_name(Int32(i), &name, 256))
            var ma: Int32 = 0, mi: Int32 = 0
            try Self.check("cuDeviceGetAttribute", eq_cu_device_capability(Int32(i), &ma, &mi))
            var bytes = 0
            try Self.check("cuDeviceTotalMem", eq_cu_device_total_mem(Int32(i), &bytes))
            found.append(CUDADeviceInfo(ordinal: i, name: String(cString: name), computeCapability: (Int(ma), Int(mi)),
                                        totalMemory: bytes))
        }
        devices = found
    }

    /// Opens the first candidate that loads; the failure text lists every place tried.
    nonisolated(unsafe) private static var openedPaths: [Int32: String] = [:]
    private static let openLock = NSLock()

    static func open(_ bit: Int32, _ lib: LibraryLocator.Library) -> (path: String?, failure: String) {
        openLock.lock()
        defer { openLock.unlock() }
        if let p = openedPaths[bit] { return (p, "") }
        let candidates = LibraryLocator.candidates(for: lib)
        var errors: [String] = []
        for path in candidates {
            var err = [CChar](repeating: 0, count: 1024)
            if eq_cu_open(bit, path, &err, 1024) == 0 {
                openedPaths[bit] = path
                return (path, "")
            }
            if path.contains("/") { errors.append(String(cString: err)) }
        }
        var tried = candidates.joined(separator: ", ")
        if !lib.wheelDirs.isEmpty {
            let sites = LibraryLocator.sitePackages(environment: ProcessInfo.processInfo.environment)
            tried += "; and \(lib.wheelDirs.joined(separator: " and ")) under "
                + (sites.isEmpty ? "no Python site-packages (none found)" : sites.joined(separator: ", "))
        }
        let detail = errors.isEmpty ? "" : " (\(errors.joined(separator: "; ")))"
        return (nil, "could not open \(lib.name); tried \(tried)\(detail). \(lib.hint)")
    }

    /// Opens NVRTC alone (no driver or GPU needed): lets a machine without a GPU check that the
    /// kernel source compiles. Returns the library path.
    public static func openNVRTC() throws -> String {
        let (path, failure) = open(Int32(EQ_CU_HAVE_NVRTC), LibraryLocator.nvrtc)
        guard let path else { throw CUDAError.unavailable(reasons: [failure]) }
        return path
    }

    static func check(_ call: String, _ code: Int32) throws {
        guard code != 0 else { return }
        let name = eq_cu_error_name(code).map { String(cString: $0) } ?? "CUresult"
        throw CUDAError.driver(call: call, code: code, name: name)
    }

    static func checkBLAS(_ call: String, _ status: Int32) throws {
        if status != 0 { throw CUDAError.cublas(call: call, status: status) }
    }

    /// Runs `body` under the runtime's lock with device `ordinal`'s context current.
    func withDevice<R>(_ ordinal: Int, _ body: () throws -> R) throws -> R {
        guard ordinal >= 0 && ordinal < devices.count else {
            throw CUDAError.noDevice(ordinal: ordinal, count: devices.count)
        }
        lock.lock()
        defer { lock.unlock() }
        try Self.check("cuCtxSetCurrent", eq_cu_set_device(Int32(ordinal)))
        return try body()
    }

    /// The device's cuBLAS handle (call inside ``withDevice(_:_:)``).
    func cublas(_ ordinal: Int) throws -> OpaquePointer {
        if let h = cublasHandles[ordinal] { return h }
        var raw: UnsafeMutableRawPointer?
        try Self.checkBLAS("cublasCreate", eq_cublas_create(&raw))
        let h = OpaquePointer(raw!)
        cublasHandles[ordinal] = h
        return h
    }

    /// A kernel of ``KernelSource`` for the device, compiling the source with NVRTC the first
    /// time any kernel is asked for on a device with that compute capability (call inside
    /// ``withDevice(_:_:)``).
    func kernel(_ name: String, ordinal: Int) throws -> OpaquePointer {
        if kernels[ordinal] == nil {
            let cc = devices[ordinal].computeCapability
            let ptx = try PTXCache.ptx(arch: "compute_\(cc.major)\(cc.minor)")
            var module: UnsafeMutableRawPointer?
            let r = ptx.withCString { eq_cu_module_load_ptx(&module, $0) }
            if r != 0 {
                let errName = eq_cu_error_name(r).map { String(cString: $0) } ?? "CUresult"
                throw CUDAError.driver(
                    call: "cuModuleLoadData (PTX from NVRTC \(nvrtcVersion.major).\(nvrtcVersion.minor), driver supports CUDA \(driverVersion / 1000).\(driverVersion % 1000 / 10); an NVRTC newer than the driver gives UNSUPPORTED_PTX_VERSION: install the nvidia-cuda-nvrtc wheel matching the driver)",
                    code: r, name: errName)
            }
            kernels[ordinal] = KernelModule(module: OpaquePointer(module!))
        }
        return try kernels[ordinal]!.function(name)
    }
}

/// A loaded module and the functions looked up in it.
final class KernelModule {
    let module: OpaquePointer
    var functions: [String: OpaquePointer] = [:]
    init(module: OpaquePointer) { self.module = module }

    func function(_ name: String) throws -> OpaquePointer {
        if let f = functions[name] { return f }
        var raw: UnsafeMutableRawPointer?
        try CUDARuntime.check("cuModuleGetFunction(\(name))", eq_cu_module_function(&raw, UnsafeMutableRawPointer(module), name))
        let f = OpaquePointer(raw!)
        functions[name] = f
        return f
    }
}

/// PTX of ``KernelSource`` per virtual architecture, compiled by NVRTC once per process.
public enum PTXCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: String] = [:]

    /// The PTX for `arch` ("compute_90"); needs only NVRTC loaded (``CUDARuntime/openNVRTC()``
    /// or the full runtime).
    public static func ptx(arch: String) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let p = cache[arch] { return p }
        var ptx: UnsafeMutablePointer<CChar>?
        var log: UnsafeMutablePointer<CChar>?
        let r = eq_nvrtc_compile(KernelSource.text, "equilibrium_kernels.cu", arch, &ptx, &log)
        defer { free(ptx); free(log) }
        guard r == 0, let ptx else {
            let msg = eq_nvrtc_error_string(r).map { String(cString: $0) } ?? "nvrtcResult"
            throw CUDAError.nvrtc(code: r, message: msg, log: log.map { String(cString: $0) } ?? "")
        }
        let text = String(cString: ptx)
        cache[arch] = text
        return text
    }
}
