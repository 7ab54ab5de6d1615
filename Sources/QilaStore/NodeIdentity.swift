public import Foundation

/// Who this node is among the installation's nodes: an identifier kept in its data directory
/// (`node.id`), so that a restart is the same node, and a name people recognise.
public struct NodeIdentity: Sendable, Equatable {
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    /// Reads `<directory>/node.id`, writing a new identifier there on the first start.
    public static func load(dataDirectory directory: String, name: String?) throws -> NodeIdentity {
        let path = directory + "/node.id"
        let id: String
        if let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty
        {
            id = text
        } else {
            id = "node-" + UUID().uuidString.lowercased().prefix(8)
            guard FileManager.default.createFile(atPath: path, contents: Data((id + "\n").utf8), attributes: [.posixPermissions: 0o644]) else {
                throw StoreError(.unavailable, "cannot write \(path)")
            }
        }
        let host = ProcessInfo.processInfo.hostName
        return NodeIdentity(id: id, name: name.flatMap { $0.isEmpty ? nil : $0 } ?? "\(host.split(separator: ".").first.map(String.init) ?? host)/\(id)")
    }
}
