/// A two-way map between symbols and ids, grown in order of first appearance (so ids are
/// reproducible from the files alone), like the dictionary of the reference language-modelling code.
///
/// ```swift
/// var vocab = Vocabulary()
/// let ids = vocab.add(["the", "cat", Vocabulary.endOfSentence])   // [0, 1, 2]
/// ```
public struct Vocabulary: Equatable, Sendable {
    /// Appended to every line of a word-level corpus.
    public static let endOfSentence = "<eos>"
    /// What a symbol outside a frozen vocabulary maps to (WikiText and PTB already contain it).
    public static let unknown = "<unk>"

    public private(set) var symbols: [String] = []
    private var ids: [String: Int] = [:]

    public init() {}

    /// A vocabulary holding `symbols` in this order (duplicates keep their first id).
    public init(symbols: [String]) {
        for s in symbols { _ = add(s) }
    }

    public var count: Int { symbols.count }

    /// The id of `symbol`, adding it when new.
    @discardableResult
    public mutating func add(_ symbol: String) -> Int {
        if let id = ids[symbol] { return id }
        ids[symbol] = symbols.count
        symbols.append(symbol)
        return symbols.count - 1
    }

    /// Ids of `symbols`, adding new ones.
    @discardableResult
    public mutating func add(_ symbols: [String]) -> [Int] { symbols.map { add($0) } }

    /// The id of `symbol`, or nil when it is not in the vocabulary.
    public func id(of symbol: String) -> Int? { ids[symbol] }

    /// Ids of `symbols` without growing: unknown symbols map to `<unk>` (an error when the
    /// vocabulary has no `<unk>`).
    public func encode(_ symbols: [String]) throws(DatasetError) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(symbols.count)
        let unk = ids[Self.unknown]
        for s in symbols {
            if let id = ids[s] { out.append(id); continue }
            guard let unk else {
                throw DatasetError("the symbol \"\(s)\" is not in the vocabulary, which has no \(Self.unknown) to stand for it; use symbols from the training corpus")
            }
            out.append(unk)
        }
        return out
    }

    /// The symbol of `id`.
    public func symbol(_ id: Int) -> String { symbols[id] }
}

/// The one error type of the Datasets layer: a corpus or data file could not be found, read or
/// checked, or a sampler or synthetic task was given sizes it cannot use. The message names the
/// file or size and the fix.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
