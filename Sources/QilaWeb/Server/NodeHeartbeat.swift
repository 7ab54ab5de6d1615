import Foundation
import Logging
import QilaAccess
import QilaIngest
import QilaRetention
import QilaStore
import ServiceLifecycle
import Synchronization

/// Registers this node in the database and keeps its row fresh every few seconds: its name, its
/// version, where other nodes reach it, what only it holds (its intake journal, the traffic data it
/// collects) and a few health figures. The administrators' nodes page reads these rows.
struct NodeHeartbeat: Service {
    let installation: Installation
    let retention: RetentionRuntime
    let intake: IntakeRuntime?
    let address: NodeAddress
    let interval: Duration

    func run() async throws {
        let started = Date()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await installation.store.heartbeat(record(startedAt: started, now: Date()))
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        // A last heartbeat says it stopped on purpose.
        try? await installation.store.heartbeat(record(startedAt: started, now: Date(), stopping: true))
    }

    func record(startedAt: Date, now: Date, stopping: Bool = false) -> NodeRecord {
        var owns: [String] = []
        var health: [String: String] = ["state": stopping ? "stopped" : "running"]
        if let intake {
            owns.append("intake journal \(intake.journal.identifier)")
            health["journalBacklogBytes"] = String(max(0, intake.journal.endPosition - intake.pipeline.committedPosition))
            health["eventsProcessed"] = String(intake.pipeline.processedEvents)
        }
        let organisations = retention.store.organisations()
        if !organisations.isEmpty { owns.append("traffic data of \(organisations.count) organisation\(organisations.count == 1 ? "" : "s")") }
        health["flowsLosing"] = String(retention.isLosing(now: now))
        let text = (try? JSONSerialization.data(withJSONObject: health, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return NodeRecord(
            id: installation.node.id, name: installation.node.name, version: QilaVersion.description, address: address.value, owns: owns,
            health: text, startedAt: startedAt, heartbeatAt: now)
    }
}

/// Where other nodes reach this one, known once the HTTPS listener is bound.
final class NodeAddress: Sendable {
    private let current: Mutex<String?>

    init(_ value: String?) {
        current = Mutex(value)
    }

    var value: String? { current.withLock { $0 } }

    func set(_ value: String) {
        current.withLock { $0 = $0 ?? value }
    }
}
