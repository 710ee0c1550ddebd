import Testing
@testable import Datasets

@Suite struct TokenizerTests {
    @Test func wordsEndEveryLineWithEOS() {
        let text = "the cat\n\n  sat  on\tmat \nlast"
        #expect(Tokenizer.words(in: text) == ["the", "cat", "<eos>", "<eos>", "sat", "on", "mat", "<eos>", "last", "<eos>"])
    }

    @Test func trailingNewlineAddsNoEmptyLine() {
        #expect(Tokenizer.words(in: "a b\n") == ["a", "b", "<eos>"])
        #expect(Tokenizer.words(in: "") == [])
    }

    @Test func spacedCharactersAreSymbols() {
        #expect(Tokenizer.words(in: "a b _ c\n") == ["a", "b", "_", "c", "<eos>"])
    }

    @Test func vocabularyGrowsInFirstAppearanceOrder() {
        var v = Vocabulary()
        #expect(v.add(["b", "a", "b", "<eos>"]) == [0, 1, 0, 2])
        #expect(v.symbols == ["b", "a", "<eos>"])
        #expect(v.id(of: "a") == 1)
        #expect(v.symbol(2) == "<eos>")
    }

    @Test func frozenVocabularyMapsUnknownWordsToUnk() throws {
        let v = Vocabulary(symbols: ["<unk>", "cat", "<eos>"])
        #expect(try v.encode(["cat", "dog", "<eos>"]) == [1, 0, 2])
    }

    @Test func frozenVocabularyWithoutUnkNamesTheSymbol() {
        let v = Vocabulary(symbols: ["cat"])
        #expect(throws: DatasetError.self) { try v.encode(["dog"]) }
        do { _ = try v.encode(["dog"]) } catch { #expect(error.message.contains("\"dog\"") && error.message.contains("<unk>")) }
    }
}
