import Foundation
import Testing
import NN
import Tensors
@testable import Training

@Suite struct ConfigurationTests {
    @Test func flagsOverrideInOrderAndAliasesWork() throws {
        var c = TrainingConfiguration()
        try c.apply(["lr": "20", "tgt_len": "70", "emsize": "64", "tied": "true"], source: "a")
        try c.apply(["lr": "0.5", "run-dir": "/tmp/x"], source: "b")
        #expect(c.lr == 0.5)
        #expect(c.bptt == 70)
        #expect(c.workDir == "/tmp/x")
        #expect(c.modelOptions == ["emsize": "64", "tied": "true"])
        var round = TrainingConfiguration()
        try round.apply(c.values, source: "saved")
        #expect(round == c)
    }

    @Test func vocabularyComesFromAStandInTrainingSplitByDefault() throws {
        var c = TrainingConfiguration()
        #expect(c.vocabFrom == "auto" && c.vocabularySplit == nil)   // the real train split: every split
        try c.apply(["train-split": "valid"], source: "flags")
        #expect(c.vocabularySplit == "valid")
        try c.apply(["vocab-from": "all"], source: "flags")
        #expect(c.vocabularySplit == nil)
        try c.apply(["vocab-from": "train", "train-split": "train"], source: "flags")
        #expect(c.vocabularySplit == "train")
        #expect(throws: ConfigurationError.self) { try c.apply(["vocab-from": "test"], source: "run.yaml") }
    }

    @Test func unknownKeyListsTheValidKeys() {
        var c = TrainingConfiguration()
        do {
            try c.apply(["learning_rate": "1"], source: "run.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("unknown key \"learning_rate\" in run.yaml"))
            #expect(error.message.contains("valid keys:") && error.message.contains("lr") && error.message.contains("batch-split"))
        }
    }

    @Test func badValuesNameTheKey() {
        var c = TrainingConfiguration()
        #expect(throws: ConfigurationError("bptt in f must be an integer, got \"long\"")) { try c.apply(["bptt": "long"], source: "f") }
        #expect(throws: ConfigurationError("batch-size in f must be positive, got 0")) { try c.apply(["batch-size": "0"], source: "f") }
        #expect(throws: ConfigurationError.self) { try c.apply(["optim": "lion"], source: "f") }
        do { try c.apply(["batch-size": "20", "batch-split": "3"], source: "f") } catch {
            #expect(error.message.contains("not divisible by batch-split 3"))
        }
    }

    @Test func yamlAndJSONReadTheSameKeys() throws {
        let yaml = try ConfigFile.parseYAML("# run\nlr: 20\nbptt: 35   # window\ndataset: \"wikitext-2\"\ntied: true\n", source: "x.yaml")
        let json = try ConfigFile.parseJSON(Data(#"{"lr": 20, "bptt": 35, "dataset": "wikitext-2", "tied": true}"#.utf8), source: "x.json")
        #expect(yaml == ["lr": "20", "bptt": "35", "dataset": "wikitext-2", "tied": "true"])
        #expect(json == yaml)
        // A config saved on Windows reads the same (CRLF line ends).
        #expect(try ConfigFile.parseYAML("lr: 20\r\nbptt: 35\r\ndataset: wikitext-2\r\ntied: true\r\n", source: "w.yaml") == yaml)
    }

    @Test func valuesOutOfRangeNameTheFlagOrTheFileKey() {
        let cases: [(String, String, String)] = [
            ("lr", "-1", "--lr must be a positive number, got -1"), ("lr", "0", "--lr must be a positive number"),
            ("clip", "-1", "--clip must be 0 or more"), ("momentum", "-0.1", "--momentum must be 0 or more"),
            ("weight-decay", "-1", "--weight-decay must be 0 or more"), ("warmup", "-2", "--warmup must be 0 or more"),
            ("decay-factor", "1.5", "--decay-factor must be in (0.0, 1.0]"), ("max-time", "0", "--max-time must be a positive number"),
            ("mem-len", "-1", "--mem-len must be 0 or more"), ("pretrain-steps", "-1", "--pretrain-steps must be 0 or more"),
        ]
        for (key, value, expected) in cases {
            var c = TrainingConfiguration()
            do { try c.apply([key: value], source: TrainingConfiguration.commandLine); Issue.record("\(key) \(value) was accepted") } catch {
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
        var c = TrainingConfiguration()
        do { try c.apply(["lr": "-1"], source: "run.yaml"); Issue.record("accepted") } catch {
            #expect(error.message.contains("lr in run.yaml must be a positive number"))
        }
    }

    @Test func nestedYAMLAndBadJSONAreRejectedClearly() {
        do { _ = try ConfigFile.parseYAML("model:\n  emsize: 3\n", source: "n.yaml"); Issue.record("expected an error") } catch {
            #expect(error.message.contains("n.yaml line 1"))
        }
        do { _ = try ConfigFile.parseJSON(Data("[1]".utf8), source: "a.json"); Issue.record("expected an error") } catch {
            #expect(error.message.contains("a.json is not a JSON object"))
        }
        do { _ = try ConfigFile.read("/nonexistent/c.yaml"); Issue.record("expected an error") } catch {
            #expect(error.message.contains("/nonexistent/c.yaml") && error.message.contains("--config"))
        }
    }

    @Test func presetsParse() throws {
        #expect(Presets.names.count >= 17)
        for name in Presets.names {
            var c = TrainingConfiguration()
            try c.apply(Presets.settings(name), source: name)
            #expect(name.hasPrefix(c.model), "the preset \(name) trains \(c.model)")
        }
        #expect(throws: ConfigurationError.self) { try Presets.settings("lstm-lm-huge") }
    }
}

@Suite struct TensorBoardTests {
    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func recordFramingHasLengthAndMaskedCRCs() {
        let payload: [UInt8] = [1, 2, 3]
        let f = TensorBoardWriter.frame(payload)
        #expect(f.count == 8 + 4 + 3 + 4)
        #expect(Array(f[0..<8]) == [3, 0, 0, 0, 0, 0, 0, 0])
        let crc = CRC32C.masked(payload)
        #expect(Array(f[15..<19]) == (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) })
    }

    @Test func scalarEventEncodesTagStepAndValue() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eq-tb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let w = try TensorBoardWriter(directory: dir, wallTime: 1)
        w.scalar("train/loss", 0.5, step: 300, wallTime: 2)
        w.flush()
        let bytes = [UInt8](try Data(contentsOf: w.url))
        // Second record's payload: wall_time, step 300 as a varint, summary{value{tag, simple_value}}.
        let first = Int(bytes[0]) + 16
        let payload = Array(bytes[(first + 12)...].dropLast(4))
        #expect(payload[0] == 0x09)
        #expect(Array(payload[9..<12]) == [0x10, 0xAC, 0x02])
        #expect(payload[12] == 0x2A)
        let tag = Array("train/loss".utf8)
        #expect(payload.count == 12 + 2 + 2 + 2 + tag.count + 5)
        #expect(Array(payload[18..<(18 + tag.count)]) == tag)
        #expect(payload[18 + tag.count] == 0x15)
    }
}

@Suite struct PlotTests {
    @Test func ticksAreRoundNumbers() {
        #expect(CurvePlot.ticks(0, 1000, count: 5) == [0, 200, 400, 600, 800, 1000])
        #expect(CurvePlot.ticks(4.3, 7.9, count: 4) == [5, 6, 7])
    }

    @Test func logBecomesAnSVGWithAxesAndLegend() {
        var entries: [[String: Any]] = (1...40).map { ["type": "train", "step": $0, "loss": 7.0 - Double($0) * 0.05] }
        entries.append(["type": "eval", "step": 20, "split": "test", "loss": 6.5])
        entries.append(["type": "eval", "step": 40, "split": "test", "loss": 6.1])
        let svg = CurvePlot.fromLog(entries, smoothing: 5, title: "run & test").render()
        #expect(svg.hasPrefix("<?xml") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("<polyline") && svg.contains("train loss (mean of 5)") && svg.contains("test loss"))
        #expect(svg.contains("run &amp; test"))
        #expect(svg.contains(">step</text>"))
    }

    @Test func logAxisHasDecadeTicksAndSkipsNonPositiveValues() {
        let residuals = [1.0, 0.1, 1e-3, 0, 1e-6]
        let chart = CurvePlot(title: "residual", xLabel: "iteration", yLabel: "residual",
                              series: CurvePlot.indexed([("broyden", residuals)]), logY: true)
        let svg = chart.render()
        for decade in ["1e0", "1e-3", "1e-6"] { #expect(svg.contains(">\(decade)</text>")) }
        // Four of the five points have a logarithm; the zero is left out of the line.
        let line = svg.components(separatedBy: "<polyline").dropFirst().first ?? ""
        let points = line.components(separatedBy: "points=\"").dropFirst().first?.components(separatedBy: "\"").first ?? ""
        #expect(points.split(separator: " ").count == 4)
    }
}

@Suite struct TokenLossTests {
    @Test func gradcheckInFloat64() throws {
        let x = Tensor.randn([5, 7], dtype: .float64, generator: RandomGenerator(seed: 4))
        let t = Tensor([Int64(0), 6, 3, 3, 1], shape: [5])
        let report = try gradcheck({ xs in tokenCrossEntropy(xs[0], t) }, inputs: [x])
        #expect(report.passed)
        let second = try gradgradcheck({ xs in tokenCrossEntropy(xs[0], t) }, inputs: [x])
        #expect(second.passed)
    }

    @Test func matchesCrossEntropy() {
        let x = Tensor.randn([6, 11], generator: RandomGenerator(seed: 5))
        let t = Tensor([Int64(1), 2, 10, 0, 5, 5], shape: [6])
        #expect(abs(tokenCrossEntropy(x, t).item - crossEntropy(x, t).item) < 1e-5)
    }

    @Test("the cross-entropy row kernel's values and first-order gradients match composed ops: float32 rows with vector tails, float64, strided logits, label smoothing, ignored rows",
          arguments: [DType.float32, .float64])
    func rowKernelMatchesComposedOps(dtype: DType) throws {
        let g = RandomGenerator(seed: 6)
        let wide = (Tensor.randn([37, 9], dtype: dtype, generator: g) * 3).T    // [9, 37], not contiguous
        let targets = Tensor((0..<9).map { Int64(($0 * 7) % 37) }, shape: [9])
        let tolerance = dtype == .float32 ? 1e-5 : 1e-12
        func composed(_ x: Tensor, eps: Double, keep: Tensor) -> Tensor {
            let logp = x.logSoftmax(axis: 1)
            let picked = logp.gather(axis: 1, targets.reshaped([9, 1])).reshaped([9])
            let perRow = -(picked * (1 - eps) + logp.mean(axis: 1) * eps) * keep
            return perRow.sum() / keep.sum().item
        }
        let all = Tensor.ones([9], dtype: dtype)
        var someIgnored = targets.to(dtype) * 0 + 1
        someIgnored = Tensor.where(targets .== 14, someIgnored * 0, someIgnored)    // rows with target 14
        for (name, eps, ignore, keep) in [("token", 0.0, nil as Int?, all), ("smoothed", 0.1, nil, all), ("ignored", 0.1, 14, someIgnored)] {
            let a = wide.requiringGrad(), b = wide.contiguous().requiringGrad()
            let ours = name == "token" ? tokenCrossEntropy(a, targets) : crossEntropy(a, targets, ignoreIndex: ignore, labelSmoothing: eps)
            let reference = composed(b, eps: eps, keep: keep)
            #expect(abs(ours.item - reference.item) < tolerance * Swift.max(1, abs(reference.item)), "\(name)")
            try (ours * 2.5).backward()
            try (reference * 2.5).backward()
            for (x, y) in zip(a.grad!.contiguous().scalars, b.grad!.contiguous().scalars) {
                #expect(abs(x - y) < tolerance, "\(name): gradient \(x) against \(y)")
            }
        }
    }
}
