import Foundation

/// Finds the data directory: an explicit `--data DIR` wins, then the `EQ_DATA` environment variable.
public enum DataDirectory {
    public static let environmentVariable = "EQ_DATA"

    /// The directory to read corpora from, checked to exist.
    public static func resolve(_ explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(DatasetError) -> URL {
        let source: String
        let path: String
        if let explicit, !explicit.isEmpty { path = explicit; source = "--data" }
        else if let env = environment[environmentVariable], !env.isEmpty { path = env; source = environmentVariable }
        else {
            throw DatasetError("no data directory given; pass --data DIR or set \(environmentVariable)=DIR (download corpora into DIR with Data/fetch.sh DATASET DIR)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError("the data directory \(path) (from \(source)) does not exist; pass an existing folder with --data DIR or \(environmentVariable)=DIR, or download corpora there with Data/fetch.sh DATASET DIR")
        }
        return URL(fileURLWithPath: path, isDirectory: true)
    }
}
