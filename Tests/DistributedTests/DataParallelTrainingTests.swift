import Foundation
import XCTest
import Datasets
import Distributed
import Tensors
import Training

/// Two ranks with half the batch each step exactly as one process with the whole batch: the same
/// losses and, after 20 steps, the same float64 parameters to 1e-10 relative. Runs under
/// `mpirun --oversubscribe -np 2` (the Makefile); skips without a launcher.
final class DataParallelTrainingTests: XCTestCase {
    func world() throws -> Communicator {
        guard let world = Communicator.world, world.size > 1 else { throw XCTSkip("not launched by mpirun -np 2 or more: the Makefile runs this suite with mpirun -np 2") }
        return world
    }

    /// A repeating pattern with noise (the TrainingTests corpus): 32 words, 3000 tokens.
    func corpus() -> Corpus {
        var vocab = Vocabulary()
        vocab.add((0..<30).map { "w\($0)" } + ["<unk>", "<eos>"])
        var rng = SplitMix64(seed: 5)
        func text(_ n: Int) -> [Int] { (0..<n).map { i in (i % 7 == 6) ? 31 : Int(rng.next() % 5) + (i % 7) * 4 } }
        return Corpus(name: "synthetic", tokenization: .words, vocabulary: vocab, splits: ["valid": text(3000), "test": text(600)])
    }

    func compareWithOneProcess(_ model: String, _ options: [String: String], batch: Int = 4) throws {
        let w = try world()
        let saved = Threading.threadCount
        Threading.threadCount = 1
        defer { Threading.threadCount = saved }
        let tag = "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
        let oneDir = FileManager.default.temporaryDirectory.appendingPathComponent("eq-dp-one-\(tag)")
        let ranksDir = FileManager.default.temporaryDirectory.appendingPathComponent("eq-dp-ranks-\(tag)")
        defer { for d in [oneDir, ranksDir] { try? FileManager.default.removeItem(at: d) } }
        func trainer(_ dir: URL) throws -> Trainer {
            var c = TrainingConfiguration()
            try c.apply(["model": model, "batch-size": "\(batch)", "bptt": "8", "varlen": "true", "optim": "adam", "lr": "0.01",
                         "clip": "0.5", "max-step": "20", "eval-interval": "10", "eval-max-tokens": "64", "final-eval-full": "false",
                         "train-split": "valid", "eval-split": "test", "work-dir": dir.path, "seed": "7"].merging(options) { $1 }, source: "test")
            let t = Trainer(configuration: c, corpus: corpus(), say: { _ in })
            t.showsProgress = false
            t.modelDType = .float64
            return t
        }
        // Every rank runs the one-process reference on its own; then the ranks train together.
        let one = try trainer(oneDir).run()
        let parallel = try trainer(ranksDir)
        let spy = GatherSpy(w)
        parallel.group = spy
        let ranks = try parallel.run()
        XCTAssertEqual(ranks.step, 20)
        // Each rank carried half the batch (the checkpoints gather the halves).
        XCTAssertFalse(spy.batchShares.isEmpty)
        XCTAssertTrue(spy.batchShares.allSatisfy { $0 == (batch / w.size, batch) }, "\(spy.batchShares)")
        for s in 1...20 {
            let (a, b) = (ranks.losses[s] ?? .nan, one.losses[s] ?? .nan)
            XCTAssertLessThanOrEqual(abs(a - b), 1e-10 * abs(b), "\(model) loss at step \(s): \(a) vs \(b)")
        }
        XCTAssertEqual(ranks.evaluations.map(\.step), one.evaluations.map(\.step))
        for (a, b) in zip(ranks.evaluations, one.evaluations) {
            XCTAssertLessThanOrEqual(abs(a.loss - b.loss), 1e-10 * abs(b.loss), "\(model) evaluation at step \(b.step)")
        }
        guard w.isRoot else {
            // Only rank 0 writes.
            XCTAssertFalse(FileManager.default.fileExists(atPath: ranksDir.path))
            return
        }
        let mine = try RunCheckpoint.read(ranksDir.appendingPathComponent("last.safetensors"))
        let theirs = try RunCheckpoint.read(oneDir.appendingPathComponent("last.safetensors"))
        let a = mine.tensors(under: "model"), b = theirs.tensors(under: "model")
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (name, t) in b where t.dtype.isFloatingPoint {
            let x = a[name]!.to(.float64).scalars, y = t.to(.float64).scalars
            let scale = max(y.map(abs).max() ?? 0, 1e-300)
            let worst = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst / scale, 1e-10, "\(model) parameter \(name)")
        }
        // The checkpoint carries the whole batch's state, as one process's does.
        XCTAssertEqual(mine.carry.map(\.shape), theirs.carry.map(\.shape))
        for (x, y) in zip(mine.carry, theirs.carry) {
            XCTAssertLessThanOrEqual(zip(x.to(.float64).scalars, y.to(.float64).scalars).map { abs($0 - $1) }.max() ?? 0, 1e-10)
        }
    }

    /// The communicator, noting the batch sizes before and after each gather of the carried state.
    final class GatherSpy: DataParallelGroup {
        let inner: Communicator
        var batchShares: [(Int, Int)] = []
        init(_ inner: Communicator) { self.inner = inner }
        var rank: Int { inner.rank }
        var size: Int { inner.size }
        func averageGradients(_ parameters: [Tensor]) throws { try inner.averageGradients(parameters) }
        func broadcastFromRoot(_ tensors: [Tensor]) throws -> [Tensor] { try inner.broadcastFromRoot(tensors) }
        func sum(_ values: [Double]) throws -> [Double] { try inner.sum(values) }
        func gather(_ tensor: Tensor, axis: Int) throws -> Tensor {
            let whole = try inner.gather(tensor, axis: axis)
            batchShares.append((tensor.shape[axis], whole.shape[axis]))
            return whole
        }
    }

    func testLSTMOnTwoRanksMatchesOneProcess() throws {
        try compareWithOneProcess("lstm-lm", ["emsize": "16", "nhid": "16", "nlayers": "2", "dropout": "0", "batch-split": "2"])
    }

    func testDEQTransformerOnTwoRanksMatchesOneProcess() throws {
        // Tolerance 0: the solver runs its f-thres iterations whatever the batch, so a half batch
        // takes the same path (a relative stopping test over the batch would not).
        try compareWithOneProcess("deq-transformer", ["d-model": "16", "n-head": "2", "d-inner": "32", "mem-len": "8", "cutoffs": "10,20",
                                                      "dropout": "0", "jac-loss-weight": "0", "tolerance": "0",
                                                      "pretrain-steps": "4", "f-thres": "6", "b-thres": "6"])
    }
}
