import Foundation

/// A value of the pickle subset that `torch.save(state_dict)` produces.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A class or function named by module and name (resolved by the caller, never imported).
    case global(module: String, name: String)
    /// What a persistent id stands for (the caller's storages).
    case object(AnyObject)
    case mark
}

final class PickleList { var items: [PickleValue] = [] }
final class PickleDict { var items: [(key: PickleValue, value: PickleValue)] = [] }

/// A pickle interpreter restricted to data: it builds tuples, lists, dicts and scalars, and calls
/// back for the only two actions that make objects — `REDUCE` (a global applied to arguments)
/// and `BINPERSID` (a persistent id) — so the caller decides which globals exist. It never imports
/// or executes anything; every other opcode is refused with its name and offset.
struct PickleReader {
    typealias Reduce = (_ callable: PickleValue, _ arguments: [PickleValue]) throws(CheckpointError) -> PickleValue
    typealias Persistent = (_ id: PickleValue) throws(CheckpointError) -> PickleValue

    let source: String

    func read(_ data: Data, reduce: Reduce, persistent: Persistent) throws(CheckpointError) -> PickleValue {
        let b = [UInt8](data)
        var i = 0
        var stack: [PickleValue] = []
        var memo: [Int: PickleValue] = [:]
        func fail(_ why: String) -> CheckpointError {
            CheckpointError("\(source): \(why) at byte \(i) of the pickle; only state dicts saved with torch.save(model.state_dict(), path) are read")
        }
        func take(_ n: Int) throws(CheckpointError) -> ArraySlice<UInt8> {
            guard n >= 0, i + n <= b.count else { throw fail("truncated data") }
            defer { i += n }
            return b[i..<(i + n)]
        }
        func uint(_ n: Int) throws(CheckpointError) -> Int {
            var v = 0
            for (k, byte) in try take(n).enumerated() { v |= Int(byte) << (8 * k) }
            return v
        }
        func line() throws(CheckpointError) -> String {
            guard let end = b[i...].firstIndex(of: 0x0A) else { throw fail("unterminated GLOBAL") }
            defer { i = end + 1 }
            return String(decoding: b[i..<end], as: UTF8.self)
        }
        func pop() throws(CheckpointError) -> PickleValue {
            guard let v = stack.popLast() else { throw fail("stack underflow") }
            return v
        }
        func popMark() throws(CheckpointError) -> [PickleValue] {
            guard let m = stack.lastIndex(where: { if case .mark = $0 { return true } else { return false } }) else {
                throw fail("no MARK")
            }
            let items = Array(stack[(m + 1)...])
            stack.removeSubrange(m...)
            return items
        }
        func string(_ n: Int) throws(CheckpointError) -> PickleValue { .string(String(decoding: try take(n), as: UTF8.self)) }
        func setItems(_ items: [PickleValue]) throws(CheckpointError) {
            guard items.count % 2 == 0, case .dict(let d) = try pop() else { throw fail("SETITEM(S) on something other than a dict") }
            for k in stride(from: 0, to: items.count, by: 2) { d.items.append((items[k], items[k + 1])) }
            stack.append(.dict(d))
        }
        while i < b.count {
            let op = b[i]
            i += 1
            switch op {
            case 0x80: _ = try take(1)                                            // PROTO
            case 0x95: _ = try take(8)                                            // FRAME
            case 0x2E: return try pop()                                           // STOP
            case 0x28: stack.append(.mark)                                        // MARK
            case 0x4E: stack.append(.none)                                        // NONE
            case 0x88: stack.append(.bool(true))                                  // NEWTRUE
            case 0x89: stack.append(.bool(false))                                 // NEWFALSE
            case 0x4B: stack.append(.int(try uint(1)))                            // BININT1
            case 0x4D: stack.append(.int(try uint(2)))                            // BININT2
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))   // BININT
            case 0x8A:                                                            // LONG1
                let n = try uint(1)
                guard n <= 8 else { throw fail("an integer of \(n) bytes") }
                var v = try uint(n)
                if n > 0 && n < 8 && v & (1 << (8 * n - 1)) != 0 { v -= 1 << (8 * n) }
                stack.append(.int(v))
            case 0x47:                                                            // BINFLOAT (big-endian)
                let bits = try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                stack.append(.float(Double(bitPattern: bits)))
            case 0x58: stack.append(try string(try uint(4)))                      // BINUNICODE
            case 0x8C: stack.append(try string(try uint(1)))                      // SHORT_BINUNICODE
            case 0x8D: stack.append(try string(try uint(8)))                      // BINUNICODE8
            case 0x55: stack.append(try string(try uint(1)))                      // SHORT_BINSTRING
            case 0x63:                                                            // GLOBAL
                let module = try line(), name = try line()
                stack.append(.global(module: module, name: name))
            case 0x93:                                                            // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else { throw fail("STACK_GLOBAL without names") }
                stack.append(.global(module: module, name: name))
            case 0x29: stack.append(.tuple([]))                                   // EMPTY_TUPLE
            case 0x74: stack.append(.tuple(try popMark()))                        // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))                          // TUPLE1
            case 0x86: let y = try pop(), x = try pop(); stack.append(.tuple([x, y]))           // TUPLE2
            case 0x87: let z = try pop(), y = try pop(), x = try pop(); stack.append(.tuple([x, y, z]))   // TUPLE3
            case 0x5D: stack.append(.list(PickleList()))                          // EMPTY_LIST
            case 0x7D: stack.append(.dict(PickleDict()))                          // EMPTY_DICT
            case 0x61:                                                            // APPEND
                let v = try pop()
                guard case .list(let l) = stack.last else { throw fail("APPEND to something other than a list") }
                l.items.append(v)
            case 0x65:                                                            // APPENDS
                let vs = try popMark()
                guard case .list(let l) = stack.last else { throw fail("APPENDS to something other than a list") }
                l.items.append(contentsOf: vs)
            case 0x73: let v = try pop(), k = try pop(); try setItems([k, v])     // SETITEM
            case 0x75: try setItems(try popMark())                                // SETITEMS
            case 0x71: memo[try uint(1)] = stack.last                             // BINPUT
            case 0x72: memo[try uint(4)] = stack.last                             // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last                              // MEMOIZE
            case 0x68, 0x6A:                                                      // BINGET, LONG_BINGET
                let k = try uint(op == 0x68 ? 1 : 4)
                guard let v = memo[k] else { throw fail("BINGET of unknown memo \(k)") }
                stack.append(v)
            case 0x52:                                                            // REDUCE
                guard case .tuple(let args) = try pop() else { throw fail("REDUCE without an argument tuple") }
                stack.append(try reduce(try pop(), args))
            case 0x51: stack.append(try persistent(try pop()))                    // BINPERSID
            case 0x62:                                                            // BUILD
                // The only state torch.save attaches is a module state dict's `_metadata` (versions).
                let state = try pop()
                guard case .dict = stack.last, case .dict = state else { throw fail("BUILD of an object other than a dict") }
            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02x", op))
            }
        }
        throw fail("no STOP")
    }
}
