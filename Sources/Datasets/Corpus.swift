import Foundation
import Tensors

/// A tokenised corpus: one vocabulary and the id sequences of its splits.
///
/// ```swift
/// let corpus = try Corpus.load(.wikitext2, from: dataDirectory)
/// let ids = corpus.splits["valid"]!   // int64 ids, [tokens]
/// ```
public struct Corpus: Sendable {
    public var name: String
    public var tokenization: Tokenization
    public var vocabulary: Vocabulary
    /// Ids per split name ("train", "valid", "test").
    public var splits: [String: [Int]]

    public init(name: String, tokenization: Tokenization, vocabulary: Vocabulary, splits: [String: [Int]]) {
        self.name = name
        self.tokenization = tokenization
        self.vocabulary = vocabulary
        self.splits = splits
    }

    /// The split `name` as an int64 tensor [tokens].
    public func tensor(_ name: String) throws(DatasetError) -> Tensor {
        guard let ids = splits[name] else {
            throw DatasetError("the \(self.name) corpus has no \(name) split here (it has \(splits.keys.sorted().joined(separator: ", "))); pick one of those, e.g. --train-split valid")
        }
        return Tensor(ids.map { Int64($0) }, shape: [ids.count])
    }

    /// Bits per symbol are reported for byte and character corpora, perplexity for words.
    public var isCharacterLevel: Bool { tokenization == .bytes || name.hasPrefix("ptb-char") }
}

/// The corpora the project knows, with their files under the data directory.
public enum CorpusKind: String, Sendable, CaseIterable {
    case wikitext2 = "wikitext-2"
    case wikitext103 = "wikitext-103"
    case ptb
    case ptbChar = "ptb-char"
    case enwik8
    case text8

    /// Parses a `--dataset` value.
    public init(argument: String) throws(DatasetError) {
        guard let k = CorpusKind(rawValue: argument.lowercased()) else {
            throw DatasetError("unknown dataset \"\(argument)\"; choose one of \(CorpusKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = k
    }

    /// The folder under the data directory.
    public var folder: String {
        switch self {
        case .ptbChar: return "ptb"
        default: return rawValue
        }
    }

    /// Split name → file name, for corpora kept as one file per split.
    public var splitFiles: [(split: String, file: String)] {
        switch self {
        case .ptbChar: return [("train", "char.train.txt"), ("valid", "char.valid.txt"), ("test", "char.test.txt")]
        case .enwik8, .text8: return []
        default: return [("train", "train.txt"), ("valid", "valid.txt"), ("test", "test.txt")]
        }
    }

    /// The manifest entry of a split's file.
    public func manifestFile(split: String) -> String? { splitFiles.first { $0.split == split }?.file }
}

extension Corpus {
    /// Loads every split present under `directory/<folder>`. Word corpora build one vocabulary over
    /// the splits in the order train, valid, test (as the reference code does, so the ids cover
    /// every split); byte corpora use ids 0…255 and cut one file 90%/5%/5%.
    ///
    /// With `vocabularySplit`, the vocabulary holds only that split's symbols (plus `<unk>`), and
    /// the other splits map unseen words to `<unk>` — what a vocabulary built from the training data
    /// gives when the training split is a small one (here: training on valid, testing on test).
    public static func load(_ kind: CorpusKind, from directory: URL, vocabularySplit: String? = nil) throws(DatasetError) -> Corpus {
        let folder = directory.appendingPathComponent(kind.folder)
        let fm = FileManager.default
        guard fm.fileExists(atPath: folder.path) else {
            throw DatasetError("no \(kind.rawValue) data at \(folder.path); pass the folder holding \(kind.folder)/ with --data DIR or EQ_DATA, or download it with Data/fetch.sh \(kind.rawValue) DIR")
        }
        switch kind {
        case .enwik8, .text8:
            let file = folder.appendingPathComponent(kind.rawValue)
            guard let data = fm.contents(atPath: file.path) else {
                throw DatasetError("cannot read \(file.path); download it with Data/fetch.sh \(kind.rawValue) DIR and pass DIR with --data or EQ_DATA")
            }
            let ids = Tokenizer.bytes(of: data)
            guard ids.count >= 20 else {
                throw DatasetError("\(file.path) holds \(ids.count) bytes, too few to cut into train, valid and test; re-download it with Data/fetch.sh \(kind.rawValue) DIR")
            }
            let n = ids.count, train = n * 90 / 100, valid = n * 5 / 100
            var vocab = Vocabulary()
            for b in 0..<256 { vocab.add(String(format: "%02x", b)) }
            return Corpus(name: kind.rawValue, tokenization: .bytes, vocabulary: vocab,
                          splits: ["train": Array(ids[0..<train]), "valid": Array(ids[train..<(train + valid)]),
                                   "test": Array(ids[(train + valid)...])])
        default:
            var texts: [(split: String, words: [String])] = []
            for (split, name) in kind.splitFiles {
                let file = folder.appendingPathComponent(name)
                guard fm.fileExists(atPath: file.path) else { continue }
                guard let data = fm.contents(atPath: file.path), String(data: data, encoding: .utf8) != nil else {
                    throw DatasetError("cannot read \(file.path) as UTF-8 text; re-download it with Data/fetch.sh \(kind.rawValue) DIR")
                }
                let words = Tokenizer.words(in: data)
                guard !words.isEmpty else {
                    throw DatasetError("\(file.path) is empty (no words); re-download it with Data/fetch.sh \(kind.rawValue) DIR or remove it")
                }
                texts.append((split, words))
            }
            guard !texts.isEmpty else {
                throw DatasetError("no \(kind.rawValue) split files (\(kind.splitFiles.map(\.file).joined(separator: ", "))) in \(folder.path); download them with Data/fetch.sh \(kind.rawValue) DIR")
            }
            var vocab = Vocabulary()
            var splits: [String: [Int]] = [:]
            if let vocabularySplit {
                guard let own = texts.first(where: { $0.split == vocabularySplit }) else {
                    throw DatasetError("cannot build the vocabulary from the \(vocabularySplit) split: \(folder.path) has only \(texts.map(\.split).joined(separator: ", "))")
                }
                splits[vocabularySplit] = vocab.add(own.words)
                vocab.add(Vocabulary.unknown)
                for t in texts where t.split != vocabularySplit { splits[t.split] = try vocab.encode(t.words) }
            } else {
                for t in texts { splits[t.split] = vocab.add(t.words) }
            }
            return Corpus(name: kind.rawValue, tokenization: .words, vocabulary: vocab, splits: splits)
        }
    }
}
