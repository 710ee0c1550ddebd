import CCUDA

/// Device memory owned by one ``CUDATensor`` (or shared by copies of it), freed when the last
/// reference goes.
// @unchecked Sendable: its fields are `let`s, and the memory is only touched by CUDA calls that run
// under CUDARuntime's lock.
final class DeviceBuffer: @unchecked Sendable {
    let pointer: eq_cu_deviceptr
    let bytes: Int
    let ordinal: Int
    private let runtime: CUDARuntime

    init(bytes: Int, ordinal: Int, runtime: CUDARuntime) throws {
        var p: eq_cu_deviceptr = 0
        try runtime.withDevice(ordinal) {
            try CUDARuntime.check("cuMemAlloc(\(bytes) bytes)", eq_cu_alloc(&p, bytes))
        }
        pointer = p
        self.bytes = bytes
        self.ordinal = ordinal
        self.runtime = runtime
    }

    deinit {
        _ = try? runtime.withDevice(ordinal) { eq_cu_free(pointer) }
    }
}
