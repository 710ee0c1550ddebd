import Testing
import Tensors

// The runtime keeps freed large buffers for reuse; MemoryStats must still count only live tensors,
// and products split over threads must equal the one-at-a-time ones.
@Suite(.serialized) struct AllocatorCacheTests {
    @Test func cachedBuffersAreNotCountedLive() {
        let bytes = 1 << 20                                 // above the cache's 64 KiB floor
        let liveBefore = MemoryStats.liveBytes
        var t: Tensor? = Tensor.zeros([bytes / 4])
        #expect(MemoryStats.liveBytes == liveBefore + bytes)
        let cachedWhileAlive = MemoryStats.cachedBytes
        t = nil
        #expect(MemoryStats.liveBytes == liveBefore)
        #expect(MemoryStats.cachedBytes >= cachedWhileAlive)
        // A buffer of the same size comes back from the cache, zero-filled as asked, and counted live again.
        let again = Tensor.zeros([bytes / 4])
        #expect(MemoryStats.liveBytes == liveBefore + bytes)
        #expect(again.sum().item == 0)
        _ = t
    }

    @Test func peakIgnoresCachedBuffers() {
        do { _ = Tensor.ones([1 << 18]) }                   // leaves a cached 1 MiB buffer behind
        let (_, peak) = MemoryStats.measurePeak { Tensor.ones([1 << 10]).sum().item }
        #expect(peak < 1 << 16)
        MemoryStats.releaseCache()
        #expect(MemoryStats.cachedBytes == 0)
    }

    @Test func batchedSmallProductsAgreeAcrossThreadCounts() {
        let a = Tensor.randn([2, 33, 17, 9], dtype: .float64, generator: RandomGenerator(seed: 3))
        let b = Tensor.randn([2, 33, 9, 21], dtype: .float64, generator: RandomGenerator(seed: 4))
        let saved = Threading.threadCount
        defer { Threading.threadCount = saved }
        Threading.threadCount = 2
        let split = a.matmul(b)
        let splitT = a.matmul(b.transposed(-1, -2).contiguous().transposed(-1, -2))
        Threading.threadCount = 1
        let serial = a.matmul(b)
        #expect(split.scalars == serial.scalars)
        #expect(splitT.scalars == serial.scalars)
        for i in 0..<2 { for j in 0..<33 {
            #expect(split[i][j].scalars == a[i][j].matmul(b[i][j]).scalars)
        } }
    }
}
