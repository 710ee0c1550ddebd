import Foundation
import Tensors
import Training

/// Times a step called repeatedly: untimed warm-up calls, then per call the wall and the
/// process CPU milliseconds and, when asked, the peak of live tensor bytes above the baseline.
public struct StepTimer {
    public var warmup: Int
    public var repeats: Int
    public var measuresPeak = false

    public init(warmup: Int, repeats: Int, measuresPeak: Bool = false) {
        (self.warmup, self.repeats, self.measuresPeak) = (warmup, max(repeats, 1), measuresPeak)
    }

    public struct Result: Sendable {
        /// Wall milliseconds of each timed call, sorted.
        public var milliseconds: [Double]
        /// Process CPU milliseconds (all threads) of each timed call, sorted.
        public var cpuMilliseconds: [Double]
        /// The largest peak of live tensor bytes above the baseline over the timed calls (0 unless measured).
        public var peakBytes: Int
        public var median: Double { milliseconds[milliseconds.count / 2] }
        public var minimum: Double { milliseconds[0] }
        public var medianCPU: Double { cpuMilliseconds[cpuMilliseconds.count / 2] }
    }

    public func run(_ step: () throws -> Void) throws -> Result {
        for _ in 0..<warmup { try step() }
        var wall: [Double] = [], cpu: [Double] = [], peak = 0
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = ProcessStats.cpuSeconds()
            if measuresPeak {
                let (_, p) = try MemoryStats.measurePeak { () throws -> Void in try step() }
                peak = max(peak, p)
            } else {
                try step()
            }
            wall.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            cpu.append((ProcessStats.cpuSeconds() - cpuStart) * 1e3)
        }
        return Result(milliseconds: wall.sorted(), cpuMilliseconds: cpu.sorted(), peakBytes: peak)
    }
}

/// Figures of the whole process.
public enum ProcessStats {
    /// User plus system CPU time of the whole process (all threads) so far, in seconds: less
    /// sensitive than wall time to other processes competing for the cores.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The process's peak resident set size so far, in bytes: ``PeakMemory/peakBytes()`` (VmHWM
    /// on Linux; getrusage's ru_maxrss survives exec, so a child of a large process inherits its
    /// parent's peak), else ru_maxrss.
    public static func maxResidentBytes() -> Int {
        if let peak = PeakMemory.peakBytes() { return peak }
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return usage.ru_maxrss   // bytes on Darwin
        #endif
    }
}
