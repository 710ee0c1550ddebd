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
    public static func words(in text: String) -> [String] {
        var out: [String] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for line in lines {
            for w in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }) {
                out.append(String(w))
            }
            out.append(Vocabulary.endOfSentence)
        }
        return out
    }

    /// Byte-level symbols: each byte is its own id 0…255.
    public static func bytes(of data: Data) -> [Int] { data.map { Int($0) } }
}
