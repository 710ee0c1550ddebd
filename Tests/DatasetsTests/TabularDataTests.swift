import Foundation
import Testing
@testable import Datasets

/// A file in a fresh temporary folder, removed by the caller.
private func temporaryFile(_ name: String, _ data: Data) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eq-csv-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try data.write(to: url)
    return url
}

private func remove(_ url: URL) { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }

/// The error a throwing expression gives, as text (nil when it does not throw).
private func message(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}

struct CSVTests {
    @Test func readsAHeaderAndNumbersWithCRLFAndQuotes() throws {
        let t = try CSVTable.parse("x,y,label\r\n1.5, 2,0\r\n\r\n\"3\",-4e1,1\r\n", source: "t.csv")
        #expect(t.header == ["x", "y", "label"])
        #expect(t.rows == [[1.5, 2, 0], [3, -40, 1]])
        let plain = try CSVTable.parse("1;2\n3;4\n", source: "t.csv", separator: ";")
        #expect(plain.header == nil && plain.rows == [[1, 2], [3, 4]])
    }

    @Test func gzipFilesReadLikePlainOnes() throws {
        let text = (0..<200).map { "\($0),\($0 % 3)" }.joined(separator: "\n") + "\n"
        let plain = try temporaryFile("t.csv", Data(text.utf8))
        let packed = try temporaryFile("t.csv.gz", try Gzip.compress(Data(text.utf8)))
        defer { remove(plain); remove(packed) }
        #expect(try CSVTable.read(packed) == CSVTable.read(plain))
        // Concatenated members (cat a.gz b.gz) read as one file.
        let twice = try temporaryFile("twice.csv.gz", try Gzip.compress(Data(text.utf8)) + Gzip.compress(Data(text.utf8)))
        defer { remove(twice) }
        #expect(try CSVTable.read(twice).rows.count == 400)
    }

    @Test func badFilesAreErrorsNamingFileLineAndColumn() throws {
        let cases: [(String, Data, [String])] = [
            ("empty.csv", Data(), ["empty.csv", "empty"]),
            ("blank.csv", Data("\n\n".utf8), ["blank.csv", "empty"]),
            ("latin1.csv", Data([0x31, 0x2C, 0xE9, 0x0A]), ["latin1.csv", "UTF-8"]),
            ("ragged.csv", Data("1,2\n3\n".utf8), ["ragged.csv", "line 2", "1 fields"]),
            ("word.csv", Data("1,2\n3,x\n".utf8), ["word.csv", "line 2", "column 2", "\"x\""]),
            ("inf.csv", Data("1,2\n3,inf\n".utf8), ["inf.csv", "line 2"]),
            ("header.csv", Data("a,b\n".utf8), ["header.csv", "no rows"]),
            ("corrupt.csv.gz", Data([0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF]), ["corrupt.csv.gz", "decompress"]),
            ("truncated.csv.gz", try Gzip.compress(Data(String(repeating: "1,2\n", count: 500).utf8)).prefix(30), ["truncated.csv.gz", "decompress"]),
        ]
        for (name, data, words) in cases {
            let url = try temporaryFile(name, data)
            defer { remove(url) }
            let text = try #require(message { _ = try CSVTable.read(url) }, "\(name) was accepted")
            for w in words { #expect(text.contains(w), "\(name): \(text)") }
        }
        #expect(message { _ = try CSVTable.read(URL(fileURLWithPath: "/nonexistent/x.csv")) }?.contains("/nonexistent/x.csv") == true)
    }
}

struct ShuffleSplitBatchTests {
    func table(_ n: Int) -> TabularDataset {
        let csv = CSVTable(rows: (0..<n).map { [Double($0), Double($0 * 2), Double($0 % 4)] })
        return try! TabularDataset(csv: csv, source: "generated")
    }

    @Test func labelsAndFeaturesComeFromTheirColumns() throws {
        let d = table(10)
        #expect(d.count == 10 && d.featureCount == 2 && d.classCount == 4)
        let (x, y) = d.batch([3, 1])
        #expect(x.shape == [2, 2] && x.toArray(Float.self) == [3, 6, 1, 2])
        #expect(y.toArray(Int64.self) == [3, 1])
        let first = try TabularDataset(csv: CSVTable(rows: [[1, 5], [0, 6]]), labelColumn: 0, source: "g")
        #expect(first.labels == [1, 0] && first.features == [5, 6])
        #expect(message { _ = try TabularDataset(csv: CSVTable(rows: [[1, 0.5]]), source: "g") }?.contains("whole number") == true)
        #expect(message { _ = try TabularDataset(csv: CSVTable(rows: [[1, 2]]), labelColumn: 5, source: "g") }?.contains("label column 5") == true)
    }

    @Test func shufflesAreSeededPermutations() {
        let a = Shuffle.permutation(100, seed: 7), b = Shuffle.permutation(100, seed: 7), c = Shuffle.permutation(100, seed: 8)
        #expect(a == b && a != c && a.sorted() == Array(0..<100) && a != Array(0..<100))
        #expect(table(50).shuffled(seed: 3).labels == table(50).shuffled(seed: 3).labels)
    }

    @Test func splitsPartitionTheRows() throws {
        let (train, test) = try Shuffle.split(count: 101, trainFraction: 0.8, seed: 1)
        #expect(train.count == 81 && test.count == 20)
        #expect(Set(train).isDisjoint(with: test) && (train + test).sorted() == Array(0..<101))
        #expect(message { _ = try Shuffle.split(count: 10, trainFraction: 1, seed: 1) }?.contains("between 0 and 1") == true)
        #expect(message { _ = try Shuffle.split(count: 2, trainFraction: 0.1, seed: 1) }?.contains("empty part") == true)
    }

    @Test func batchSamplerCoversEachEpochAndReshuffles() throws {
        let keep = try BatchSampler(count: 10, batchSize: 4, seed: 5)
        let e0 = keep.batches(epoch: 0), e1 = keep.batches(epoch: 1)
        #expect(keep.batchesPerEpoch == 3 && e0.map(\.count) == [4, 4, 2])
        #expect(e0.flatMap { $0 }.sorted() == Array(0..<10) && e0 != e1)
        #expect(keep.batches(epoch: 1) == e1)   // an epoch's order depends only on the seed and the epoch
        let drop = try BatchSampler(count: 10, batchSize: 4, dropLast: true, seed: 5)
        #expect(drop.batches(epoch: 0).map(\.count) == [4, 4])
        let ordered = try BatchSampler(count: 5, batchSize: 2, shuffle: false)
        #expect(ordered.batches(epoch: 3) == [[0, 1], [2, 3], [4]])
        #expect(ordered.batches(epochs: 2).map(\.epoch) == [0, 0, 0, 1, 1, 1])
        #expect(message { _ = try BatchSampler(count: 10, batchSize: 0) }?.contains("batch size") == true)
        #expect(message { _ = try BatchSampler(count: 3, batchSize: 4, dropLast: true) }?.contains("no full batch") == true)
        #expect(message { _ = try BatchSampler(count: 0, batchSize: 4) }?.contains("no rows") == true)
    }
}

@Suite(.enabled(if: SharedData.available, "../shared/data is absent (data sets are not committed); put them there or skip"))
struct DigitsTests {
    @Test func theDigitsFileReadsAs1797LabelledImages() throws {
        let url = SharedData.directory.appendingPathComponent("digits/digits.csv.gz")
        let table = try CSVTable.read(url)
        #expect(table.header == nil && table.rows.count == 1797 && table.columnCount == 65)
        let digits = try TabularDataset(csv: table, source: url.path)
        #expect(digits.featureCount == 64 && digits.classCount == 10)
        #expect(digits.features.allSatisfy { $0 >= 0 && $0 <= 16 })   // 4-bit pixel counts
        // Every class is present in roughly equal numbers (the UCI test set: 174 to 183 each).
        let perClass = Dictionary(grouping: digits.labels, by: { $0 }).mapValues(\.count)
        #expect(perClass.count == 10 && perClass.values.allSatisfy { (170...190).contains($0) })
        let (train, test) = try digits.split(trainFraction: 0.8, seed: 0)
        #expect(train.count == 1438 && test.count == 359)
        let sampler = try BatchSampler(count: train.count, batchSize: 64, dropLast: true, seed: 1)
        let (x, y) = train.batch(sampler.batches(epoch: 0)[0])
        #expect(x.shape == [64, 64] && y.shape == [64])
    }
}
