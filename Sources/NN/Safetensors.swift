import Foundation
import Tensors

/// Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON
/// header mapping each name to {dtype, shape, data_offsets} (plus an optional `__metadata__`
/// map of strings), then the raw little-endian data. PyTorch users read it with `safetensors`.
public enum Safetensors {
    static func code(_ dtype: DType) -> String {
        switch dtype {
        case .float32: return "F32"
        case .float64: return "F64"
        case .int64: return "I64"
        case .bool: return "BOOL"
        }
    }

    static func dtype(_ code: String) -> DType? {
        switch code {
        case "F32": return .float32
        case "F64": return .float64
        case "I64": return .int64
        case "BOOL": return .bool
        default: return nil
        }
    }

    /// The metadata key of the data section's checksum (``checksum(_:)``), written with
    /// `checksum: true` and verified by ``decode(_:source:)`` whenever a file has it.
    public static let checksumKey = "eq_data_checksum"

    /// A 64-bit checksum of `bytes`: each 8-byte little-endian word w updates h ← xorshift((h ⊕ w)·P)
    /// with P odd, so every step is a bijection of h and any change confined to one word always
    /// changes the result; the length is folded in last. One multiply per 8 bytes.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let prime: UInt64 = 0x0000_0100_0000_01B3
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        let words = bytes.count / 8
        var i = 0
        while i < words {
            h = (h ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) &* prime
            h ^= h >> 29
            i += 1
        }
        var tail: UInt64 = 0
        for k in (words * 8)..<bytes.count { tail |= UInt64(bytes[k]) << (8 * UInt64(k - words * 8)) }
        h = (h ^ tail) &* prime
        h = (h ^ UInt64(bytes.count)) &* prime
        return h ^ (h >> 32)
    }

    static func checksumText(_ bytes: UnsafeRawBufferPointer) -> String {
        let hex = String(checksum(bytes), radix: 16)
        return "h64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The file's bytes for `tensors` (sorted by name) and `metadata`; with `checksum`, the data
    /// section's checksum joins the metadata under ``checksumKey``.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:], checksum: Bool = false) -> Data {
        let names = tensors.keys.sorted()
        var header: [String: Any] = [:]
        var offset = 0
        var body = Data()
        for name in names {
            let t = tensors[name]!.detached().contiguous()
            let bytes = t.count * t.dtype.byteSize
            header[name] = ["dtype": code(t.dtype), "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
            body.append(Data(bytes: t.baseAddress, count: bytes))
        }
        var meta = metadata
        if checksum { meta[checksumKey] = body.withUnsafeBytes { checksumText($0) } }
        if !meta.isEmpty { header["__metadata__"] = meta }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned (the format allows trailing spaces).
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(body)
        return data
    }

    /// Parses a file's bytes; any truncation or inconsistency is one `CheckpointError` naming `source`.
    public static func decode(_ data: Data, source: String = "the data") throws(CheckpointError) -> (tensors: [String: Tensor], metadata: [String: String]) {
        func corrupt(_ why: String) -> CheckpointError {
            CheckpointError("\(source) is not a valid safetensors file (\(why)); it may be truncated or corrupt — restore it from a backup or rewrite it")
        }
        guard data.count >= 8 else { throw corrupt("only \(data.count) bytes, fewer than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | (UInt64($1.element) << (8 * UInt64($1.offset))) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw corrupt("the header claims \(headerLength) bytes but only \(data.count - 8) follow")
        }
        let start = data.startIndex
        let headerData = data[(start + 8)..<(start + 8 + Int(headerLength))]
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw corrupt("the header is not a JSON object")
        }
        let bodyStart = start + 8 + Int(headerLength)
        let bodyLength = data.count - 8 - Int(headerLength)
        var metadata: [String: String] = [:]
        var tensors: [String: Tensor] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw corrupt("__metadata__ is not a map of strings") }
                metadata = m
                continue
            }
            guard let entry = value as? [String: Any], let code = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw corrupt("the entry for \(name) lacks dtype, shape or data_offsets")
            }
            guard let dtype = dtype(code) else {
                throw corrupt("\(name) has dtype \(code); supported are F32, F64, I64 and BOOL")
            }
            guard shape.count <= Tensor.maxRank else {
                throw corrupt("\(name) has \(shape.count) dimensions; tensors here have at most \(Tensor.maxRank)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw corrupt("\(name) has a negative size in its shape \(shape)") }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bodyLength else {
                throw corrupt("\(name) has data offsets \(offsets) outside the \(bodyLength) data bytes")
            }
            // Sizes from the file are multiplied with overflow checks: a shape whose byte count
            // does not fit in an Int cannot match the data and is refused, not trapped on.
            var bytes: Int? = dtype.byteSize
            for d in shape { bytes = bytes.flatMap { b in let (p, o) = b.multipliedReportingOverflow(by: d); return o ? nil : p } }
            guard let bytes, offsets[1] - offsets[0] == bytes else {
                throw corrupt("\(name) has \(offsets[1] - offsets[0]) bytes for shape \(shape) of \(code), which needs \(bytes.map(String.init) ?? "more than the largest integer")")
            }
            let t = Tensor.zeros(shape, dtype: dtype)
            data[(bodyStart + offsets[0])..<(bodyStart + offsets[1])].withUnsafeBytes { raw in
                if let base = raw.baseAddress, raw.count > 0 { t.baseAddress.copyMemory(from: base, byteCount: raw.count) }
            }
            tensors[name] = t
        }
        if let stored = metadata[checksumKey] {
            let actual = data[bodyStart...].withUnsafeBytes { checksumText($0) }
            guard stored == actual else {
                throw CheckpointError("\(source) fails its checksum (stored \(stored), its data gives \(actual)): the file was changed or damaged after it was written — restore it from a backup, or use the run's other checkpoint (best.safetensors or last.safetensors)")
            }
        }
        return (tensors, metadata)
    }

    /// Writes atomically: a temporary file in the same directory, flushed to disk, then renamed
    /// over `url`. A crash at any point leaves either the old file or the new one, never a mix.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], checksum: Bool = false, to url: URL) throws(CheckpointError) {
        try writeAtomically(encode(tensors, metadata: metadata, checksum: checksum), to: url)
    }

    /// Reads a file written by ``write(_:metadata:to:)`` or by Python's `safetensors`.
    public static func read(_ url: URL) throws(CheckpointError) -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CheckpointError("\(url.path) is a folder, not a checkpoint; pass a .safetensors file in it (deq train writes last.safetensors and best.safetensors)")
        }
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            let code = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).map { Int32($0.code) } ?? ENOENT
            throw CheckpointError("cannot read \(url.path) (\(String(cString: strerror(code)))); check the path and that the file is readable")
        }
        return try decode(data, source: url.path)
    }

    /// The temporary name a write to `url` uses before its rename.
    public static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    }

    static func writeAtomically(_ data: Data, to url: URL) throws(CheckpointError) {
        let tmp = temporaryURL(for: url)
        let dir = url.deletingLastPathComponent().path
        func failure(_ what: String) -> CheckpointError {
            CheckpointError("cannot write \(url.path): \(what) failed (\(String(cString: strerror(errno)))); check that \(dir) exists and is writable")
        }
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw failure("creating \(tmp.lastPathComponent)") }
        var ok = true
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { ok = false; return }
                done += n
            }
        }
        if !ok { close(fd); unlink(tmp.path); throw failure("writing") }
        if fsync(fd) != 0 { close(fd); unlink(tmp.path); throw failure("fsync") }
        close(fd)
        if rename(tmp.path, url.path) != 0 { unlink(tmp.path); throw failure("renaming the temporary file") }
        // Flush the directory entry too, so the rename itself survives a power loss.
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
