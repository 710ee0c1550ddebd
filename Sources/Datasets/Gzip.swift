import CZlib
import Foundation

/// gzip through the system zlib (Foundation on Linux has none): what `.csv.gz` files need.
public enum Gzip {
    /// True when `data` starts with the gzip magic bytes 1f 8b.
    public static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// The inflated bytes of gzip (or zlib) `data`; `source` names the file in errors.
    public static func decompress(_ data: Data, source: String) throws(DatasetError) -> Data {
        try run(data, eq_gunzip) { reason in
            DatasetError("cannot decompress \(source): \(reason); it may be truncated or not gzip — re-download it or unpack it with gunzip")
        }
    }

    /// `data` as one gzip member (level 6).
    public static func compress(_ data: Data) throws(DatasetError) -> Data {
        try run(data, eq_gzip) { reason in DatasetError("cannot gzip \(data.count) bytes: \(reason)") }
    }

    private typealias Codec = (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                               UnsafeMutablePointer<Int>?, UnsafeMutablePointer<CChar>?, Int) -> Int32

    private static func run(_ data: Data, _ codec: Codec, error: (String) -> DatasetError) throws(DatasetError) -> Data {
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: 256)
        let code = data.withUnsafeBytes { raw in
            codec(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &out, &length, &message, message.count)
        }
        guard code == 0, let out else {
            throw error(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { eq_zlib_free(out) }
        return Data(bytes: out, count: length)
    }
}
