import Foundation
import Testing
import Tensors

// Bad input traps with one clear sentence naming the operands. Each exit test runs in a child
// process, so there are only a few; the throwing APIs are checked in-process.
@Suite struct ErrorMessageTests {
    /// The child's standard error as text.
    static func stderr(_ result: ExitTest.Result?) -> String {
        guard let result else { return "" }
        return String(decoding: result.standardErrorContent, as: UTF8.self)
    }

    @Test func broadcastMismatchNamesBothShapes() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        let text = Self.stderr(r)
        #expect(text.contains("add"))
        #expect(text.contains("[2, 3]") && text.contains("[4]"), "\(text)")
    }

    @Test func badAxisNamesTheAxisAndRank() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).sum(axis: 2)
        }
        let text = Self.stderr(r)
        #expect(text.contains("axis 2") && text.contains("rank 2"), "\(text)")
    }

    @Test func badReshapeNamesBothShapes() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).reshaped([4, 2])
        }
        let text = Self.stderr(r)
        #expect(text.contains("[2, 3]") && text.contains("[4, 2]"), "\(text)")
    }

    @Test func matmulInnerDimensionMismatch() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([4, 5]))
        }
        let text = Self.stderr(r)
        #expect(text.contains("matmul") && text.contains("[2, 3]") && text.contains("[4, 5]"), "\(text)")
    }

    @Test func indexSelectOutOfRange() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3, 4]).indexSelect(axis: 1, Tensor([0, 7] as [Int64]))
        }
        let text = Self.stderr(r)
        #expect(text.contains("indexSelect") && text.contains("index 7") && text.contains("size 4"), "\(text)")
    }

    @Test func gatherOutOfRange() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).gather(axis: 1, Tensor([0, -1, 3, 1] as [Int64], shape: [2, 2]))
        }
        let text = Self.stderr(r)
        #expect(text.contains("gather") && text.contains("out of range"), "\(text)")
    }

    @Test func oneHotNamesItselfForABadClass() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor([0, 5] as [Int64]).oneHot(classes: 3)
        }
        let text = Self.stderr(r)
        #expect(text.contains("oneHot") && text.contains("5") && text.contains("3 classes"), "\(text)")
    }

    @Test func dtypeErrorsNameTheTypeAndTheFix() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor([1, 2] as [Int64]).exp()
        }
        let text = Self.stderr(r)
        #expect(text.contains("exp") && text.contains("int64") && text.contains(".to("), "\(text)")
        let w = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.where(Tensor([1, 0] as [Float]), Tensor.zeros([2]), Tensor.ones([2]))
        }
        #expect(Self.stderr(w).contains("bool"), "\(Self.stderr(w))")
        let s = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor([true]) - Tensor([false])
        }
        #expect(Self.stderr(s).contains("sub") && Self.stderr(s).contains("bool"), "\(Self.stderr(s))")
    }

    @Test func throwingAPIsReportErrors() {
        #expect(throws: TensorError.self) { try Tensor.broadcastShapes([2, 3], [4]) }
        let singular = Tensor([[1, 2], [2, 4]] as [[Double]])
        #expect(throws: TensorError.self) { try Tensor.solve(singular, Tensor([1, 2] as [Double])) }
        do {
            _ = try Tensor.solve(singular, Tensor([1, 2] as [Double]))
        } catch {
            #expect(error.message.contains("solve") && error.message.contains("singular"))
            #expect(error.description == error.message)
        }
        do {
            _ = try Tensor.broadcastShapes([2, 3], [4])
        } catch {
            #expect(error.message.contains("[2, 3]") && error.message.contains("[4]"))
        }
    }
}
