import Foundation

/// The zip container of PyTorch checkpoints: stored (uncompressed) entries, read and written.
///
/// `torch.save` writes every entry stored, with the data of each entry aligned to 64 bytes by
/// padding in the local header's extra field; the writer does the same. Deflated entries, zip64
/// archives (over 4 GiB) and multi-disk archives are refused with an error that names the fix.
enum ZipArchive {
    /// The entries of an archive, by name.
    static func entries(of data: Data, source: String) throws(CheckpointError) -> [String: Data] {
        func corrupt(_ why: String) -> CheckpointError {
            CheckpointError("\(source) is not a readable zip archive (\(why)); save the state dict with torch.save(model.state_dict(), path) in PyTorch 1.6 or later")
        }
        let bytes = [UInt8](data)
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        if bytes.count >= 2 && bytes[0] == 0x80 {
            throw CheckpointError("\(source) is a PyTorch checkpoint in the legacy (pre-1.6) format, not a zip archive; re-save it in current PyTorch: torch.save(torch.load(path, map_location='cpu'), new_path)")
        }
        guard bytes.count >= 22 else { throw corrupt("too short") }
        // The end-of-central-directory record: the last 22 bytes, or earlier when a comment follows.
        var end = bytes.count - 22
        while end >= max(0, bytes.count - 22 - 65535) && u32(end) != 0x0605_4B50 { end -= 1 }
        guard end >= 0 && u32(end) == 0x0605_4B50 else { throw corrupt("no end-of-central-directory record") }
        let count = u16(end + 10), directoryOffset = u32(end + 16)
        if count == 0xFFFF || directoryOffset == 0xFFFF_FFFF {
            throw CheckpointError("\(source) is a zip64 archive (over 4 GiB or 65535 entries), which is not supported; save the tensors in smaller state dicts")
        }
        var out: [String: Data] = [:]
        var p = directoryOffset
        for _ in 0..<count {
            guard p + 46 <= bytes.count, u32(p) == 0x0201_4B50 else { throw corrupt("bad central directory entry at byte \(p)") }
            let method = u16(p + 10), size = u32(p + 20), nameLength = u16(p + 28)
            let extraLength = u16(p + 30), commentLength = u16(p + 32), local = u32(p + 42)
            guard p + 46 + nameLength <= bytes.count else { throw corrupt("truncated central directory") }
            let name = String(decoding: bytes[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            guard method == 0 else {
                throw CheckpointError("\(source): entry \(name) is compressed (zip method \(method)); only stored entries are read, as torch.save writes them; re-save the state dict with torch.save")
            }
            guard local + 30 <= bytes.count, u32(local) == 0x0403_4B50 else { throw corrupt("bad local header of \(name)") }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard start + size <= bytes.count else { throw corrupt("entry \(name) runs past the end of the file") }
            out[name] = data.subdata(in: (data.startIndex + start)..<(data.startIndex + start + size))
            p += 46 + nameLength + extraLength + commentLength
        }
        return out
    }

    /// An archive of stored entries in the given order, each entry's data aligned to `alignment`.
    static func archive(_ entries: [(name: String, data: Data)], alignment: Int = 64) -> Data {
        var out = Data()
        var directory = Data()
        func put16(_ d: inout Data, _ v: Int) { d.append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)]) }
        func put32(_ d: inout Data, _ v: Int) { put16(&d, v & 0xFFFF); put16(&d, v >> 16 & 0xFFFF) }
        let date = 1 << 5 | 1   // 1980-01-01, the zip epoch: archives do not depend on the clock
        for (name, data) in entries {
            let nameBytes = Array(name.utf8)
            let offset = out.count
            let unpadded = offset + 30 + nameBytes.count + 4
            let padding = (alignment - unpadded % alignment) % alignment
            let crc = CRC32.checksum(data)
            put32(&out, 0x0403_4B50); put16(&out, 20); put16(&out, 0); put16(&out, 0)
            put16(&out, 0); put16(&out, date); put32(&out, crc); put32(&out, data.count); put32(&out, data.count)
            put16(&out, nameBytes.count); put16(&out, 4 + padding)
            out.append(contentsOf: nameBytes)
            put16(&out, 0x4246); put16(&out, padding); out.append(Data(count: padding))   // "FB" padding field, as torch writes
            out.append(data)
            put32(&directory, 0x0201_4B50); put16(&directory, 20); put16(&directory, 20); put16(&directory, 0)
            put16(&directory, 0); put16(&directory, 0); put16(&directory, date); put32(&directory, crc)
            put32(&directory, data.count); put32(&directory, data.count); put16(&directory, nameBytes.count)
            put16(&directory, 0); put16(&directory, 0); put16(&directory, 0); put16(&directory, 0); put32(&directory, 0)
            put32(&directory, offset)
            directory.append(contentsOf: nameBytes)
        }
        let directoryOffset = out.count
        out.append(directory)
        put32(&out, 0x0605_4B50); put16(&out, 0); put16(&out, 0); put16(&out, entries.count); put16(&out, entries.count)
        put32(&out, directory.count); put32(&out, directoryOffset); put16(&out, 0)
        return out
    }
}

/// The CRC-32 of zip (polynomial 0xEDB88320).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ data: Data) -> Int {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return Int(c ^ 0xFFFF_FFFF)
    }
}
