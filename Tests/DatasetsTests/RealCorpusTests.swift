import Foundation
import Testing
@testable import Datasets

/// The shared corpora sit beside the package (../shared/data); the tests find them from this
/// file's path and are skipped, with a message saying why, where they are absent.
enum SharedData {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let directory = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    static var available: Bool { FileManager.default.fileExists(atPath: directory.appendingPathComponent("PROVENANCE.md").path) }

    /// file → token count, read from the PROVENANCE.md table (rows whose count is a number).
    static func provenanceCounts() throws -> [String: Int] {
        let text = try String(contentsOf: directory.appendingPathComponent("PROVENANCE.md"), encoding: .utf8)
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3 else { continue }
            let count = cells[2].split(separator: " ").first.map { $0.replacingOccurrences(of: ",", with: "") }
            if let count, let n = Int(count) { out[cells[0]] = n }
        }
        return out
    }
}

@Suite(.enabled(if: SharedData.available, "../shared/data is absent (corpora are not committed); put them there or skip"))
struct RealCorpusTests {
    @Test(arguments: [CorpusKind.wikitext2, .ptb, .ptbChar])
    func tokenCountsMatchProvenance(_ kind: CorpusKind) throws {
        let counts = try SharedData.provenanceCounts()
        #expect(counts["wikitext-2/valid.txt"] == 217_646)   // the table was read
        let corpus = try Corpus.load(kind, from: SharedData.directory)
        var checked = 0
        for (split, ids) in corpus.splits {
            guard let file = kind.manifestFile(split: split), let n = counts["\(kind.folder)/\(file)"] else { continue }
            #expect(ids.count == n, "\(kind.folder)/\(file)")
            checked += 1
        }
        #expect(checked >= 1)
    }

    @Test(arguments: [CorpusKind.wikitext2, .ptb, .ptbChar])
    func tokenCountsMatchManifest(_ kind: CorpusKind) throws {
        let url = try #require(Manifest.locate())
        let corpus = try Corpus.load(kind, from: SharedData.directory)
        #expect(try Manifest.load(url).mismatches(in: corpus, kind: kind) == [])
    }

    @Test func wikitextUsesItsOwnUnkAndEOS() throws {
        let corpus = try Corpus.load(.wikitext2, from: SharedData.directory)
        let unk = try #require(corpus.vocabulary.id(of: "<unk>"))
        let eos = try #require(corpus.vocabulary.id(of: "<eos>"))
        let valid = try #require(corpus.splits["valid"])
        #expect(valid.contains(unk))
        #expect(valid[0] == eos)   // the file starts with an empty line
        #expect(!corpus.isCharacterLevel)
        #expect(try Corpus.load(.ptbChar, from: SharedData.directory).isCharacterLevel)
    }

    @Test func vocabularyFromOneSplitReadsOtherWordsAsUnk() throws {
        let all = try Corpus.load(.wikitext2, from: SharedData.directory)
        let own = try Corpus.load(.wikitext2, from: SharedData.directory, vocabularySplit: "valid")
        #expect(own.vocabulary.count < all.vocabulary.count)
        #expect(own.splits["test"]?.count == all.splits["test"]?.count)
        let unk = try #require(own.vocabulary.id(of: "<unk>"))
        let unseen = zip(all.splits["test"]!, own.splits["test"]!).filter { own.vocabulary.id(of: all.vocabulary.symbol($0.0)) == nil }
        #expect(!unseen.isEmpty && unseen.allSatisfy { $0.1 == unk })
    }

    @Test func manifestReportsATruncatedFile() throws {
        var corpus = try Corpus.load(.ptb, from: SharedData.directory)
        corpus.splits["valid"]!.removeLast()
        let problems = try Manifest.load(try #require(Manifest.locate())).mismatches(in: corpus, kind: .ptb)
        #expect(problems.count == 1)
        #expect(problems.first?.contains("73759 tokens but the manifest records 73760") == true)
    }
}

@Suite struct DataDirectoryTests {
    @Test func missingDirectoryNamesFlagVariableAndScript() {
        do {
            _ = try DataDirectory.resolve(nil, environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("--data") && error.message.contains("EQ_DATA") && error.message.contains("Data/fetch.sh"))
        }
        do {
            _ = try DataDirectory.resolve("/nonexistent/eq-data", environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("/nonexistent/eq-data") && error.message.contains("--data")
                    && error.message.contains("EQ_DATA") && error.message.contains("Data/fetch.sh"))
        }
    }

    @Test func environmentVariableIsUsed() throws {
        let url = try DataDirectory.resolve(nil, environment: ["EQ_DATA": "/tmp"])
        #expect(url.path == "/tmp")
    }

    @Test func missingCorpusFolderNamesTheFix() throws {
        do {
            _ = try Corpus.load(.wikitext103, from: URL(fileURLWithPath: "/tmp"))
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("wikitext-103") && error.message.contains("--data") && error.message.contains("Data/fetch.sh"))
        }
    }

    @Test func unknownDatasetListsTheKnownOnes() {
        #expect(throws: DatasetError.self) { try CorpusKind(argument: "imagenet") }
        do { _ = try CorpusKind(argument: "imagenet") } catch { #expect(error.message.contains("wikitext-2, wikitext-103, ptb")) }
    }
}
