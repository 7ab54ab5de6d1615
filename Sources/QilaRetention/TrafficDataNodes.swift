public import Foundation
public import QilaStore
import Synchronization

/// A part of a warrant query that one node asks another to run on the traffic data it holds:
/// the warrant, the query's identifier, the investigator on whose behalf, and the identifiers
/// and window already checked by the asking node (the answering node checks them again).
public struct TrafficDataRequest: Codable, Sendable, Equatable {
    public var warrant: String
    public var query: String
    public var investigator: String
    public var addresses: [String]
    public var subscribers: [String]
    /// Milliseconds since 1970, the window's start inclusive and end exclusive.
    public var windowStart: Int64
    public var windowEnd: Int64

    public init(warrant: String, query: String, investigator: String, addresses: [String], subscribers: [String], windowStart: Int64, windowEnd: Int64) {
        self.warrant = warrant
        self.query = query
        self.investigator = investigator
        self.addresses = addresses
        self.subscribers = subscribers
        self.windowStart = windowStart
        self.windowEnd = windowEnd
    }
}

/// What a node answers: who it is and the records its traffic data holds for the request.
public struct TrafficDataAnswer: Codable, Sendable {
    public var node: String
    public var name: String
    public var rows: [ExportPackage.Row]

    public init(node: String, name: String, rows: [ExportPackage.Row]) {
        self.node = node
        self.name = name
        self.rows = rows
    }
}

/// How this node reaches another's traffic data: over mutual TLS with the installation's CA in
/// `qila serve` (the web layer provides it); a test may answer from another desk directly.
public protocol TrafficDataLink: Sendable {
    func ask(_ node: NodeRecord, _ request: TrafficDataRequest) async throws -> TrafficDataAnswer
}

/// The installation's other nodes as holders of traffic data: which of them hold an
/// organisation's flows or address assignments (from their heartbeats), and the link to ask them.
public final class TrafficDataNodes: Sendable {
    public let store: SQLStore
    public let node: NodeIdentity
    private let current: Mutex<(any TrafficDataLink)?>

    public init(store: SQLStore, node: NodeIdentity, link: (any TrafficDataLink)? = nil) {
        self.store = store
        self.node = node
        current = Mutex(link)
    }

    /// Set once the node's TLS identity is known (the link needs its node certificate).
    public func connect(_ link: any TrafficDataLink) {
        current.withLock { $0 = link }
    }

    public var link: (any TrafficDataLink)? { current.withLock { $0 } }

    /// Whether this node's own last heartbeat listed traffic data of `organisation`.
    public func holdsHere(_ organisation: String) async throws -> Bool {
        try await store.node(id: node.id)?.health.trafficData?.contains { $0.organisation == organisation } ?? false
    }

    /// The other registered nodes whose last heartbeat listed traffic data of `organisation`.
    public func holders(of organisation: String) async throws -> [NodeRecord] {
        try await store.nodes().filter { record in
            record.id != node.id && (record.health.trafficData ?? []).contains { $0.organisation == organisation && ($0.flows > 0 || $0.assignments > 0) }
        }
    }
}
