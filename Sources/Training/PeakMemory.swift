import Foundation

/// The process's peak resident set size (Linux: VmHWM in /proc/self/status), with a reset so one
/// run's peak can be read in a process that ran others before it.
public enum PeakMemory {
    /// Resets the peak to the current resident size (Linux ≥ 4.0: writing 5 to
    /// /proc/self/clear_refs). Returns false where that is not possible (the peak then covers the
    /// whole process).
    @discardableResult
    public static func reset() -> Bool {
        #if os(Linux)
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch { return false }
        return true
        #else
        return false
        #endif
    }

    /// The peak resident set size in bytes since the start or the last ``reset()`` (nil where
    /// /proc is not available).
    public static func peakBytes() -> Int? {
        #if os(Linux)
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb * 1024
        #else
        return nil
        #endif
    }
}
