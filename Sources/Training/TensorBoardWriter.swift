import Foundation

/// Writes scalars as a TensorBoard event file (`events.out.tfevents.*`), so `tensorboard --logdir`
/// shows the curves. Records use TFRecord framing — uint64 length, masked CRC-32C of the length,
/// the bytes, masked CRC-32C of the bytes — around hand-encoded `Event` protobufs:
/// `Event{wall_time=1 (double), step=2 (int64), file_version=3, summary=5}`,
/// `Summary{value=1}`, `Summary.Value{tag=1, simple_value=2 (float)}`.
public final class TensorBoardWriter {
    public let url: URL
    private let handle: FileHandle

    /// Opens a new event file in `directory` (one per process, as TensorBoard expects).
    public init(directory: URL, wallTime: Double = Date().timeIntervalSince1970) throws {
        let host = ProcessInfo.processInfo.hostName
        url = directory.appendingPathComponent("events.out.tfevents.\(Int(wallTime)).\(host).\(getpid())")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forWritingTo: url)
        var first = Protobuf()
        first.double(1, wallTime)
        first.bytes(3, Array("brain.Event:2".utf8))
        write(first.data)
    }

    deinit { try? handle.close() }

    /// Appends one scalar.
    public func scalar(_ tag: String, _ value: Double, step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        var v = Protobuf()
        v.bytes(1, Array(tag.utf8))
        v.float(2, Float(value))
        var summary = Protobuf()
        summary.bytes(1, v.data)
        var event = Protobuf()
        event.double(1, wallTime)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        event.bytes(5, summary.data)
        write(event.data)
    }

    public func flush() { try? handle.synchronize() }

    private func write(_ payload: [UInt8]) {
        handle.write(Data(Self.frame(payload)))
    }

    /// One TFRecord: length, its masked CRC, the payload, its masked CRC.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        let length = UInt64(payload.count)
        let lengthBytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
        out += lengthBytes
        out += littleEndian(CRC32C.masked(lengthBytes))
        out += payload
        out += littleEndian(CRC32C.masked(payload))
        return out
    }

    private static func littleEndian(_ x: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: x >> (8 * $0)) } }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) and TFRecord's masking.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// Rotated right by 15 bits plus a constant, so a CRC of data holding CRCs stays informative.
    public static func masked(_ bytes: [UInt8]) -> UInt32 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}

/// The few protobuf wire encodings an Event needs.
struct Protobuf {
    var data: [UInt8] = []

    mutating func key(_ field: Int, _ wireType: UInt64) { appendVarint(UInt64(field) << 3 | wireType) }

    mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { data.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        data.append(UInt8(v))
    }

    mutating func varint(_ field: Int, _ value: UInt64) { key(field, 0); appendVarint(value) }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        let bits = value.bitPattern
        for i in 0..<8 { data.append(UInt8(truncatingIfNeeded: bits >> (8 * i))) }
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        let bits = value.bitPattern
        for i in 0..<4 { data.append(UInt8(truncatingIfNeeded: bits >> (8 * i))) }
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        appendVarint(UInt64(value.count))
        data += value
    }
}
