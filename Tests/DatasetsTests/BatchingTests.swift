import Testing
import Tensors
@testable import Datasets

@Suite struct BatchingTests {
    @Test func batchifyMakesTimeMajorContiguousStreams() throws {
        let ids = Array(0..<26)   // 26 tokens, 4 streams of 6; 2 dropped
        let s = try batchify(ids, batchSize: 4)
        #expect(s.shape == [6, 4])
        #expect(s.dtype == .int64)
        let v = s.toArray(Int64.self)
        // Column b is the b-th slice of 6 consecutive tokens.
        for b in 0..<4 { for t in 0..<6 { #expect(v[t * 4 + b] == Int64(b * 6 + t)) } }
    }

    @Test func batchifyRejectsTooFewTokens() {
        #expect(throws: DatasetError.self) { try batchify([1, 2, 3], batchSize: 2) }
        #expect(throws: DatasetError.self) { try batchify([1, 2, 3, 4], batchSize: 0) }
    }

    @Test func fixedWindowsCoverTheStreamsWithShiftedTargets() throws {
        let s = try batchify(Array(0..<42), batchSize: 2)   // [21, 2]
        var it = try BPTTIterator(streams: s, bptt: 6)
        var lengths: [Int] = []
        while let w = it.next() {
            #expect(w.input.shape == [w.length, 2])
            #expect(w.target.shape == [w.length, 2])
            let x = w.input.toArray(Int64.self), y = w.target.toArray(Int64.self)
            for i in 0..<x.count { #expect(y[i] == x[i] + 1) }
            lengths.append(w.length)
        }
        #expect(lengths == [6, 6, 6, 2])   // 20 predictable positions
        #expect(it.windowsPerEpoch == 4)
        #expect(it.epoch == 1)
        #expect(it.next()?.position == 0)   // the next pass starts over
    }

    @Test func variableLengthsStayInBoundsAndResumeExactly() throws {
        let s = try batchify(Array(0..<20_000), batchSize: 4)
        var it = try BPTTIterator(streams: s, bptt: 30, variableLength: true, seed: 7)
        var lengths: [Int] = []
        for _ in 0..<50 { lengths.append(it.next()!.length) }
        #expect(lengths.allSatisfy { $0 >= 5 && $0 <= 50 })
        #expect(Set(lengths).count > 5)   // lengths really vary
        let saved = it.state
        let ahead = (0..<10).map { _ in it.next()!.position }
        var resumed = try BPTTIterator(streams: s, bptt: 30, variableLength: true, seed: 999)
        resumed.state = saved
        #expect((0..<10).map { _ in resumed.next()!.position } == ahead)
    }

    @Test func badBPTTLengthNamesTheFlag() {
        do {
            _ = try BPTTIterator(streams: Tensor.zeros([4, 2], dtype: .int64), bptt: 0)
            Issue.record("expected an error")
        } catch { #expect(error.message.contains("--bptt")) }
    }
}

@Suite struct SyntheticTaskTests {
    @Test func copyMemoryRepeatsTheSymbolsAfterTheDelimiter() throws {
        let b = try SyntheticTask.copyMemory(batch: 3, length: 4, delay: 5, alphabet: 8, generator: RandomGenerator(seed: 1))
        #expect(b.input.shape == [13, 3])
        #expect(b.target.shape == [13, 3])
        let x = b.input.toArray(Int64.self), y = b.target.toArray(Int64.self)
        for j in 0..<3 {
            for i in 0..<4 {
                #expect((1...8).contains(x[i * 3 + j]))
                #expect(y[(9 + i) * 3 + j] == x[i * 3 + j])
            }
            #expect(x[8 * 3 + j] == 9)                       // delimiter just before the recall
            for t in 4..<13 where t != 8 { #expect(x[t * 3 + j] == 0) }
            for t in 0..<9 { #expect(y[t * 3 + j] == 0) }
        }
    }

    @Test func addingTargetIsTheSumOfTheTwoMarkedValues() throws {
        let b = try SyntheticTask.adding(batch: 5, length: 20, dtype: .float64, generator: RandomGenerator(seed: 2))
        #expect(b.input.shape == [20, 5, 2])
        let x = b.input.toArray(Double.self), y = b.target.toArray(Double.self)
        for j in 0..<5 {
            var marks: [Int] = []
            var sum = 0.0
            for t in 0..<20 where x[(t * 5 + j) * 2 + 1] == 1 { marks.append(t); sum += x[(t * 5 + j) * 2] }
            #expect(marks.count == 2)
            #expect(marks[0] < 10 && marks[1] >= 10)
            #expect(abs(sum - y[j]) < 1e-12)
        }
    }

    @Test func nthFarthestAnswersByBruteForce() throws {
        let count = 8, dim = 16
        let b = try SyntheticTask.nthFarthest(batch: 6, count: count, dimension: dim, dtype: .float64, generator: RandomGenerator(seed: 3))
        let features = dim + 3 * count
        #expect(b.input.shape == [count, 6, features])
        let x = b.input.toArray(Double.self), y = b.target.toArray(Int64.self)
        var identityLabelling = 0
        for j in 0..<6 {
            func row(_ t: Int) -> ArraySlice<Double> { x[((t * 6 + j) * features)..<((t * 6 + j + 1) * features)] }
            func hot(_ t: Int, _ field: Int) -> Int {
                let r = Array(row(t))
                return r[(dim + field * count)..<(dim + (field + 1) * count)].firstIndex(of: 1)! - (dim + field * count)
            }
            let labels = (0..<count).map { hot($0, 0) }
            #expect(Set(labels).count == count)   // a permutation
            if labels == Array(0..<count) { identityLabelling += 1 }
            let n = hot(0, 1), m = hot(0, 2)
            let refVec = Array(row(labels.firstIndex(of: m)!).prefix(dim))
            let dists = (0..<count).map { t in zip(row(t).prefix(dim), refVec).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }
            let order = (0..<count).sorted { dists[$0] > dists[$1] }
            #expect(Int(y[j]) == labels[order[n]])
            for t in 0..<count { #expect(hot(t, 1) == n && hot(t, 2) == m) }   // every step repeats the question
        }
        #expect(identityLabelling < 6)
    }
}
