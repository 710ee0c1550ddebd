import Foundation

/// A file could not be read or written: one sentence naming the path, the reason in plain words
/// (the POSIX reason behind Foundation's error, never an `NSCocoaErrorDomain` dump) and the fix.
public struct FileSystemError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// An error carrying only `errno`'s reason (turned into a sentence by ``describe``).
    static func posix(_ code: Int32) -> NSError { NSError(domain: NSPOSIXErrorDomain, code: Int(code)) }

    /// The plain reason behind `error`: its POSIX code's text where Foundation kept one.
    public static func reason(_ error: Error) -> String {
        if let e = error as? FileSystemError { return e.message }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        switch ns.code {
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or directory"
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
        case NSFileWriteOutOfSpaceError: return "no space left on the device"
        case NSFileWriteVolumeReadOnlyError: return "the file system is read-only"
        case NSFileReadInapplicableStringEncodingError: return "it is not UTF-8 text"
        default: return "system error \(ns.code)"
        }
    }

    public static func describe(_ error: Error, writing url: URL, fix: String) -> FileSystemError {
        if let e = error as? FileSystemError { return e }
        return FileSystemError("cannot write \(url.path) (\(reason(error))); \(fix)")
    }

    public static func describe(_ error: Error, reading url: URL, fix: String) -> FileSystemError {
        if let e = error as? FileSystemError { return e }
        return FileSystemError("cannot read \(url.path) (\(reason(error))); \(fix)")
    }

    /// Writes `text` to the file a flag named, atomically; a failure is one sentence naming the
    /// flag, the path, the reason and the fix.
    public static func write(_ text: String, to path: String, flag: String) throws(FileSystemError) {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw FileSystemError("cannot write \(flag) \(path) (\(reason(error))); pass a path in an existing, writable folder")
        }
    }

    /// Writes `data` to `path` (one of the files under a folder a flag named).
    public static func write(_ data: Data, to path: String, flag: String) throws(FileSystemError) {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw FileSystemError("cannot write \(path) for \(flag) (\(reason(error))); pass a writable folder")
        }
    }

    /// Creates the folder a flag named (and its parents).
    public static func createDirectory(_ path: String, flag: String) throws(FileSystemError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw FileSystemError("cannot create \(flag) \(path) (\(reason(error))); pass a writable folder")
        }
    }
}
