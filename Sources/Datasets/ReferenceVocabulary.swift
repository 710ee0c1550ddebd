import Foundation

extension Vocabulary {
    /// The vocabulary in the order of the DEQ reference code (`utils/vocabulary.py` with
    /// `data_utils.get_lm_corpus`, from Transformer-XL): `<eos>` first, then every word by
    /// decreasing count, ties in order of first appearance. The counts cover train, valid and test
    /// for PTB and WikiText-2 and train alone for WikiText-103, as the reference's `Corpus` does;
    /// PTB is lower-cased. Only the splits present in `directory` are counted: without the real
    /// training split the order (and size) differs from the authors'.
    public static func referenceOrder(_ kind: CorpusKind, in directory: URL) throws(DatasetError) -> (vocabulary: Vocabulary, counted: [String]) {
        let counted: [String]
        switch kind {
        case .ptb, .wikitext2: counted = ["train", "valid", "test"]
        case .wikitext103: counted = ["train"]
        default:
            throw DatasetError("the reference vocabulary order is defined for ptb, wikitext-2 and wikitext-103, not \(kind.rawValue)")
        }
        let folder = directory.appendingPathComponent(kind.folder)
        var counts: [String: Int] = [:]
        var firstSeen: [String] = []
        var used: [String] = []
        // The symbol keeps the spelling of its first appearance (PTB's "N"), so the ids map onto the
        // corpus as loaded; two spellings that lower-case alike make the vocabularies differ, which
        // Corpus.reindexed(to:) reports.
        var spelling: [String: String] = [:]
        for (split, file) in kind.splitFiles where counted.contains(split) {
            let url = folder.appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: url.path) else { continue }
            used.append(split)
            for word in Tokenizer.words(in: data) where word != Vocabulary.endOfSentence {
                let w = kind == .ptb ? word.lowercased() : word
                if let c = counts[w] { counts[w] = c + 1 } else { counts[w] = 1; firstSeen.append(w); spelling[w] = word }
            }
        }
        guard !used.isEmpty else {
            throw DatasetError("no \(kind.rawValue) split files in \(folder.path) to count the reference vocabulary from; pass the data directory with --data or EQ_DATA")
        }
        let rank = Dictionary(uniqueKeysWithValues: firstSeen.enumerated().map { ($1, $0) })
        let ordered = firstSeen.sorted { a, b in counts[a]! != counts[b]! ? counts[a]! > counts[b]! : rank[a]! < rank[b]! }
        return (Vocabulary(symbols: [Vocabulary.endOfSentence] + ordered.map { spelling[$0]! }), used)
    }
}

extension Corpus {
    /// The same corpus with ids in the order of `vocabulary`, which must hold exactly the same
    /// symbols (a checkpoint whose vocabulary was built in another order, e.g. the reference's).
    public func reindexed(to vocabulary: Vocabulary) throws(DatasetError) -> Corpus {
        if vocabulary == self.vocabulary { return self }
        guard vocabulary.count == self.vocabulary.count, self.vocabulary.symbols.allSatisfy({ vocabulary.id(of: $0) != nil }) else {
            let missing = self.vocabulary.symbols.filter { vocabulary.id(of: $0) == nil }
            throw DatasetError("the vocabulary of \(name) here (\(self.vocabulary.count) symbols) is not the checkpoint's (\(vocabulary.count) symbols\(missing.isEmpty ? "" : "; \(missing.count) of ours are not in it, e.g. \"\(missing[0])\"")); evaluate with the data files the model was trained or imported with")
        }
        let map = self.vocabulary.symbols.map { vocabulary.id(of: $0)! }
        return Corpus(name: name, tokenization: tokenization, vocabulary: vocabulary, splits: splits.mapValues { $0.map { map[$0] } })
    }
}
