import Foundation

/// How a corpus file is cut into symbols.
public enum Tokenization: String, Sendable, CaseIterable, Codable {
    /// Whitespace-separated words plus `<eos>` at the end of every line (WikiText, PTB words).
    /// PTB's character files use the same rule: their symbols are space-separated characters with
    /// `_` between words, so each line also ends in `<eos>`.
    case words
    /// Every byte is a symbol (enwik8, text8).
    case bytes
}

/// Cuts text into symbols.
public enum Tokenizer {
    /// The symbols of `text` by the rule of the reference word-level code: each line (split on
    /// `\n`) gives its whitespace-separated words followed by `<eos>`; a final line without `\n`
    /// counts too, an empty remainder after the last `\n` does not.
    ///
    /// It works on UTF-8 bytes, not Swift `Character`s: a grapheme cluster can join a space or a
    /// newline with a following combining mark (WikiText has a few), which would hide the separator.
    public static func words(in text: String) -> [String] {
        words(in: Data(text.utf8))
    }

    /// The symbols of UTF-8 text held in `data` (same rule as ``words(in:)-(String)``).
    public static func words(in data: Data) -> [String] {
        var out: [String] = []
        data.withUnsafeBytes { raw in words(bytes: raw.bindMemory(to: UInt8.self), into: &out) }
        return out
    }

    private static func words(bytes: UnsafeBufferPointer<UInt8>, into out: inout [String]) {
        var start = -1
        var lineHasContent = false
        func flush(_ i: Int) {
            if start >= 0 {
                out.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
                start = -1
            }
        }
        for i in 0..<bytes.count {
            switch bytes[i] {
            case 0x0A:
                flush(i)
                out.append(Vocabulary.endOfSentence)
                lineHasContent = false
            case 0x20, 0x09, 0x0D, 0x0B, 0x0C:
                flush(i)
                lineHasContent = true
            default:
                if start < 0 { start = i }
                lineHasContent = true
            }
        }
        flush(bytes.count)
        if lineHasContent { out.append(Vocabulary.endOfSentence) }
    }

    /// Byte-level symbols: each byte is its own id 0…255.
    public static func bytes(of data: Data) -> [Int] { data.map { Int($0) } }
}
