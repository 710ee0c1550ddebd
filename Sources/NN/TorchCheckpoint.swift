import Foundation
import Tensors

/// PyTorch state dicts in the zip format of `torch.save` (PyTorch 1.6 and later): read into
/// tensors and written so that `torch.load(path, weights_only=True)` loads them.
///
/// The reader accepts the pickle `torch.save(model.state_dict(), path)` writes: an OrderedDict
/// (with its `_metadata`) of tensors made by `torch._utils._rebuild_tensor_v2` (or
/// `_rebuild_parameter`) over float32, float64 or int64 storages, with any strides and offsets,
/// storages shared between entries included. Anything else — another global, another storage
/// type, another opcode — is an error that names it; nothing is imported or executed.
///
/// ```swift
/// let sd = try TorchCheckpoint.read(URL(fileURLWithPath: "model.pt"))   // ["encoder.weight": Tensor, ...]
/// try TorchCheckpoint.write(sd, to: URL(fileURLWithPath: "copy.pt"))
/// ```
public enum TorchCheckpoint {
    static let storageTypes: [String: DType] = ["FloatStorage": .float32, "DoubleStorage": .float64, "LongStorage": .int64]

    public static func read(_ url: URL) throws(CheckpointError) -> [String: Tensor] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CheckpointError("cannot read \(url.path); pass the path of a state dict saved with torch.save")
        }
        return try decode(data, source: url.path)
    }

    public static func write(_ tensors: [String: Tensor], to url: URL) throws(CheckpointError) {
        let stem = url.deletingPathExtension().lastPathComponent
        try Safetensors.writeAtomically(encode(tensors, archiveName: stem.isEmpty ? "archive" : stem), to: url)
    }

    /// The tensors of a state dict held in `data` (a `torch.save` zip archive).
    public static func decode(_ data: Data, source: String = "the data") throws(CheckpointError) -> [String: Tensor] {
        let entries = try ZipArchive.entries(of: data, source: source)
        guard let pickleName = entries.keys.filter({ $0.hasSuffix("/data.pkl") || $0 == "data.pkl" }).min() else {
            throw CheckpointError("\(source) has no data.pkl; it is a zip archive but not a torch.save checkpoint")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if let order = entries[prefix + "byteorder"], String(decoding: order, as: UTF8.self) != "little" {
            throw CheckpointError("\(source) was saved on a big-endian machine; re-save it on a little-endian one")
        }
        final class Storage { let bytes: Data; let dtype: DType; init(_ b: Data, _ d: DType) { bytes = b; dtype = d } }
        var storages: [String: Storage] = [:]
        let reader = PickleReader(source: source)
        let root = try reader.read(entries[pickleName]!, reduce: { callable, args throws(CheckpointError) in
            guard case .global(let module, let name) = callable else {
                throw CheckpointError("\(source): a REDUCE of something other than a global; not a plain state dict")
            }
            switch (module, name) {
            case ("collections", "OrderedDict"):
                guard args.isEmpty else { throw CheckpointError("\(source): an OrderedDict built from arguments; not a plain state dict") }
                return .dict(PickleDict())
            case ("torch._utils", "_rebuild_tensor_v2"):
                guard args.count >= 4, case .object(let o) = args[0], let s = o as? Storage, case .int(let offset) = args[1],
                      case .tuple(let sizes) = args[2], case .tuple(let strides) = args[3] else {
                    throw CheckpointError("\(source): _rebuild_tensor_v2 with unexpected arguments")
                }
                let shape = sizes.compactMap { if case .int(let v) = $0 { return v } else { return nil } }
                let steps = strides.compactMap { if case .int(let v) = $0 { return v } else { return nil } }
                guard shape.count == sizes.count, steps.count == strides.count, shape.count == steps.count else {
                    throw CheckpointError("\(source): a tensor with a non-integer size or stride")
                }
                return .object(try tensor(s.bytes, dtype: s.dtype, offset: offset, shape: shape, strides: steps, source: source) as AnyObject)
            case ("torch._utils", "_rebuild_parameter"):
                guard let first = args.first else { throw CheckpointError("\(source): _rebuild_parameter without data") }
                return first
            default:
                throw CheckpointError("\(source) refers to \(module).\(name), which a plain state dict does not; only tensors in an OrderedDict (torch.save(model.state_dict(), path)) are read")
            }
        }, persistent: { id throws(CheckpointError) in
            guard case .tuple(let t) = id, t.count >= 5, case .string("storage") = t[0], case .global(let module, let type) = t[1],
                  case .string(let key) = t[2] else {
                throw CheckpointError("\(source): a persistent id that is not a tensor storage")
            }
            guard module == "torch", let dtype = storageTypes[type] else {
                throw CheckpointError("\(source): storage type \(module).\(type) is not supported (float32, float64 and int64 are); convert in PyTorch first, e.g. {k: v.double() for k, v in sd.items()}")
            }
            if let s = storages[key] { return .object(s) }
            guard let bytes = entries[prefix + "data/" + key] else { throw CheckpointError("\(source) lacks the storage data/\(key)") }
            let s = Storage(bytes, dtype)
            storages[key] = s
            return .object(s)
        })
        guard case .dict(let dict) = root else { throw CheckpointError("\(source) holds a pickled object that is not a state dict") }
        var out: [String: Tensor] = [:]
        for (k, v) in dict.items {
            guard case .string(let name) = k, case .object(let o) = v, let box = o as? TensorBox else {
                throw CheckpointError("\(source): the state dict has an entry that is not a name and a tensor (\(k))")
            }
            out[name] = box.tensor
        }
        return out
    }

    final class TensorBox { let tensor: Tensor; init(_ t: Tensor) { tensor = t } }

    /// Gathers a strided view of a little-endian storage into a contiguous tensor.
    static func tensor(_ bytes: Data, dtype: DType, offset: Int, shape: [Int], strides: [Int],
                       source: String) throws(CheckpointError) -> TensorBox {
        let width = dtype == .float32 ? 4 : 8
        let available = bytes.count / width
        let count = shape.reduce(1, *)
        if count > 0 {
            let last = offset + zip(shape, strides).map { ($0 - 1) * $1 }.reduce(0, +)
            guard offset >= 0, strides.allSatisfy({ $0 >= 0 }), last < available else {
                throw CheckpointError("\(source): a tensor of shape \(shape) at offset \(offset), strides \(strides) runs past its storage of \(available) elements")
            }
        }
        var index = [Int](repeating: 0, count: shape.count)
        var positions: [Int] = []
        positions.reserveCapacity(count)
        for _ in 0..<count {
            positions.append(offset + zip(index, strides).map(*).reduce(0, +))
            var axis = shape.count - 1
            while axis >= 0 { index[axis] += 1; if index[axis] < shape[axis] { break }; index[axis] = 0; axis -= 1 }
        }
        return bytes.withUnsafeBytes { raw -> TensorBox in
            switch dtype {
            case .float32:
                let v = positions.map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                return TensorBox(Tensor(v, shape: shape))
            case .float64:
                let v = positions.map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
                return TensorBox(Tensor(v, shape: shape))
            default:
                let v = positions.map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
                return TensorBox(Tensor(v, shape: shape))
            }
        }
    }

    /// A `torch.save` zip archive of the state dict `tensors` (keys sorted, one contiguous storage
    /// per tensor), loadable with `torch.load(path, weights_only=True)`.
    public static func encode(_ tensors: [String: Tensor], archiveName: String = "archive") throws(CheckpointError) -> Data {
        var pickle = PickleWriter()
        var storages: [(name: String, data: Data)] = []
        pickle.global("collections", "OrderedDict"); pickle.emptyTuple(); pickle.reduce()
        pickle.mark()
        for (i, name) in tensors.keys.sorted().enumerated() {
            let t = tensors[name]!.detached().contiguous()
            let type: String
            switch t.dtype {
            case .float32: type = "FloatStorage"
            case .float64: type = "DoubleStorage"
            case .int64: type = "LongStorage"
            default: throw CheckpointError("cannot write \(name) (\(t.dtype)) to a PyTorch checkpoint: only float32, float64 and int64 tensors are written")
            }
            pickle.string(name)
            pickle.global("torch._utils", "_rebuild_tensor_v2")
            pickle.mark()
            pickle.mark(); pickle.string("storage"); pickle.global("torch", type); pickle.string("\(i)"); pickle.string("cpu")
            pickle.int(t.count); pickle.tuple(); pickle.persistentID()
            pickle.int(0)
            pickle.ints(t.shape)
            var stride = 1
            pickle.ints(t.shape.reversed().map { let s = stride; stride *= $0; return s }.reversed())
            pickle.bool(false)
            pickle.global("collections", "OrderedDict"); pickle.emptyTuple(); pickle.reduce()
            pickle.tuple(); pickle.reduce()
            storages.append((name: "\(archiveName)/data/\(i)", data: bytes(of: t)))
        }
        pickle.setItems(); pickle.stop()
        return ZipArchive.archive([(name: "\(archiveName)/data.pkl", data: pickle.data),
                                   (name: "\(archiveName)/byteorder", data: Data("little".utf8))]
                                  + storages + [(name: "\(archiveName)/version", data: Data("3\n".utf8))])
    }

    /// The little-endian bytes of a contiguous float32, float64 or int64 tensor.
    static func bytes(of t: Tensor) -> Data {
        var d = Data()
        switch t.dtype {
        case .float32: for v in t.toArray(Float.self) { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        case .float64: for v in t.toArray(Double.self) { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        default: for v in t.toArray(Int64.self) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        }
        return d
    }
}

/// Writes the protocol-2 pickle opcodes a state dict needs.
struct PickleWriter {
    var data = Data([0x80, 0x02])

    mutating func global(_ module: String, _ name: String) { data.append(0x63); data.append(contentsOf: Array("\(module)\n\(name)\n".utf8)) }
    mutating func emptyTuple() { data.append(0x29) }
    mutating func mark() { data.append(0x28) }
    mutating func tuple() { data.append(0x74) }
    mutating func reduce() { data.append(0x52) }
    mutating func persistentID() { data.append(0x51) }
    mutating func setItems() { data.append(0x75) }
    mutating func stop() { data.append(0x2E) }
    mutating func bool(_ v: Bool) { data.append(v ? 0x88 : 0x89) }

    mutating func string(_ s: String) {
        let b = Array(s.utf8)
        data.append(0x58)
        withUnsafeBytes(of: UInt32(b.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: b)
    }

    mutating func int(_ v: Int) {
        if let small = Int32(exactly: v) {
            data.append(0x4A)
            withUnsafeBytes(of: small.littleEndian) { data.append(contentsOf: $0) }
        } else {
            data.append(contentsOf: [0x8A, 8])   // LONG1, 8 bytes two's complement
            withUnsafeBytes(of: Int64(v).littleEndian) { data.append(contentsOf: $0) }
        }
    }

    mutating func ints(_ vs: [Int]) { mark(); for v in vs { int(v) }; tuple() }
}
