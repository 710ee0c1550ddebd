import CKernels

/// A reference-counted, 64-byte-aligned buffer. Tensors share it; views never copy it.
/// Allocations are counted by the C runtime so tests and benchmarks can read live and peak bytes.
// @unchecked Sendable: every stored property is a `let`; the bytes behind `pointer` follow the
// Tensor rule (shared reads from any thread, in-place writes only where no other thread reads).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    /// Number of elements.
    public let count: Int
    public let dtype: DType
    let byteCount: Int
    /// Whoever owns the bytes when they are not ours (an MPI shared-memory window): kept alive as
    /// long as this storage, and the bytes are not freed here nor counted in ``MemoryStats``.
    let owner: AnyObject?

    init(count: Int, dtype: DType) {
        owner = nil
        precondition(count >= 0, "a tensor cannot have a negative number of elements (\(count))")
        self.count = count
        self.dtype = dtype
        self.byteCount = count * dtype.byteSize
        guard let p = eq_alloc(byteCount) else {
            fatalError("out of memory: could not allocate \(byteCount) bytes for a \(dtype) tensor of \(count) elements")
        }
        self.pointer = p
    }

    /// Storage over `count` elements of memory that `owner` keeps valid.
    init(borrowing pointer: UnsafeMutableRawPointer, count: Int, dtype: DType, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.dtype = dtype
        self.byteCount = count * dtype.byteSize
        self.owner = owner
    }

    deinit { if owner == nil { eq_free(pointer, byteCount) } }
}

/// Live and peak byte counts of tensor storage, for memory tests and benchmarks.
public enum MemoryStats {
    /// Bytes held by tensor storage right now.
    public static var liveBytes: Int { Int(eq_live_bytes()) }
    /// Number of tensor storages alive right now.
    public static var liveAllocations: Int { Int(eq_live_allocations()) }
    /// Bytes of freed large buffers kept by the allocator for reuse (not live, not in the peak).
    /// `EQ_ALLOC_CACHE_MB` caps them (0 turns the cache off); by default the cap is the larger of
    /// 256 MB and the most live tensor bytes the process has held.
    public static var cachedBytes: Int { Int(eq_alloc_cached_bytes()) }
    /// Gives every cached buffer back to the system.
    public static func releaseCache() { eq_alloc_cache_release() }
    /// Highest `liveBytes` since the last ``resetPeak()``.
    public static var peakBytes: Int { Int(eq_peak_bytes()) }
    /// Starts a new peak measurement from the current live figure and returns it.
    @discardableResult public static func resetPeak() -> Int { Int(eq_reset_peak_bytes()) }

    /// Runs `body` and returns its result with the peak of live tensor bytes reached while it ran,
    /// above the bytes live when it started. Measurements nest: an inner one does not disturb an
    /// outer one's peak.
    public static func measurePeak<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> (result: R, peakBytes: Int) {
        let baseline = liveBytes
        let enclosing = eq_peak_scope_begin()
        let result: R
        do { result = try body() } catch {
            _ = eq_peak_scope_end(enclosing)
            throw error
        }
        let peak = Int(eq_peak_scope_end(enclosing))
        return (result, peak - baseline)
    }
}

/// The one knob for parallelism: sets OpenMP's and OpenBLAS's thread counts together.
/// The environment variable `EQ_NUM_THREADS` sets it at start-up.
public enum Threading {
    /// The instruction set of the elementwise, reduction and row-wise kernels, chosen at start-up
    /// from the CPU's features: "avx2+fma" or "portable" (forced by `EQ_KERNELS=portable`).
    public static var kernels: String { String(cString: eq_kernels_name()) }

    /// Whether the C kernels were built with OpenMP (`-Xcc -fopenmp`, as the Makefile does);
    /// without it they run on one thread and only OpenBLAS uses `threadCount`.
    public static var openMP: Bool { eq_openmp_enabled() != 0 }

    public static var threadCount: Int {
        get { Int(eq_get_num_threads()) }
        set { eq_set_num_threads(Int32(newValue)) }
    }

    /// Element count below which kernels stay on one thread.
    public static var parallelThreshold: Int {
        get { Int(eq_parallel_threshold()) }
        set { eq_set_parallel_threshold(Int64(newValue)) }
    }

    /// Bytes, over all operands of one elementwise op, above which its output is written with
    /// streaming (non-temporal) stores that bypass the cache. Defaults to the last-level cache
    /// size (`EQ_STREAM_MB` overrides it): an output that large would only evict the inputs.
    public static var streamingThresholdBytes: Int {
        get { Int(eq_stream_threshold_bytes()) }
        set { eq_set_stream_threshold_bytes(Int64(newValue)) }
    }
}
