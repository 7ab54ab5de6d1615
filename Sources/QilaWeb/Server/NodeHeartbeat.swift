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
    /// How this node calls the others; nil without TLS (then it calls none).
    let link: NodeLink?
    let interval: Duration

    func run() async throws {
        let started = Date()
        var peers: (reached: Int, of: Int, problems: [String])?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await installation.store.heartbeat(record(startedAt: started, now: Date(), peers: peers))
            if let link { peers = await check(link) }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        // A last heartbeat says it stopped on purpose.
        try? await installation.store.heartbeat(record(startedAt: started, now: Date(), stopping: true, peers: peers))
        await link?.shutdown()
    }

    /// Calls every other node that is up and reachable by address, over mutual TLS.
    func check(_ link: NodeLink) async -> (reached: Int, of: Int, problems: [String]) {
        let now = Date()
        let others = ((try? await installation.store.nodes()) ?? []).filter {
            $0.id != installation.node.id && $0.address != nil && now.timeIntervalSince($0.heartbeatAt) < NodeRegistry.silentAfter
        }
        var reached = 0
        var problems: [String] = []
        for node in others {
            do {
                let answered = try await link.identify(node.address!)
                if answered == node.id { reached += 1 } else { problems.append("\(node.name): another node (\(answered)) answers at its address") }
            } catch {
                problems.append("\(node.name): \(String(describing: error).prefix(120))")
            }
        }
        return (reached, others.count, problems)
    }

    func record(startedAt: Date, now: Date, stopping: Bool = false, peers: (reached: Int, of: Int, problems: [String])?) -> NodeRecord {
        var owns: [String] = []
        var health = NodeHealth()
        health.stopped = stopping
        if let peers {
            health.peersReached = peers.reached
            health.peersChecked = peers.of
            health.peerProblems = peers.problems
        }
        if let intake {
            owns.append("intake journal \(intake.journal.identifier)")
            health.journalBacklogBytes = max(0, intake.journal.endPosition - intake.pipeline.committedPosition)
            health.eventsProcessed = intake.pipeline.processedEvents
        }
        let holdings = retention.holdings()
        health.trafficData = holdings.trafficData
        health.collector = holdings.collector
        let organisations = holdings.trafficData.count
        if organisations > 0 { owns.append("traffic data of \(organisations) organisation\(organisations == 1 ? "" : "s")") }
        health.flowsLosing = retention.isLosing(now: now)
        return NodeRecord(
            id: installation.node.id, name: installation.node.name, version: QilaVersion.description, address: address.value, owns: owns,
            health: health, startedAt: startedAt, heartbeatAt: now)
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
