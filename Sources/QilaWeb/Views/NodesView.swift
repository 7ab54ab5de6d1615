import Foundation
import QilaAccess
import QilaStore

/// The installation's nodes: who is up, what each holds alone, which shared jobs each leads.
struct NodesView: Sendable {
    struct Node: Sendable {
        var id, name, version, address, started, heartbeat, state: String
        var isUp, isThisNode, canForget: Bool
        var owns: [String]
        var leases: [String]
        var figures: [Figure]
    }

    struct Figure: Sendable {
        var label, value: String
    }

    let nodes: [Node]
    let upCount: Int
    let total: Int
    /// Set when the nodes run different versions (a rolling upgrade under way, or one left behind).
    let versions: String?

    static func build(_ entries: [NodeRegistry.Entry], thisNode: String, canForget: Bool) -> NodesView {
        let nodes = entries.map { entry in
            let record = entry.record
            let stopped = record.health.stopped
            return Node(
                id: record.id, name: record.name, version: record.version, address: record.address ?? "not reachable by other nodes",
                started: record.startedAt.display, heartbeat: "\(Self.duration(entry.silentFor)) ago",
                state: stopped ? "stopped" : entry.isUp ? "up" : "silent for \(Self.duration(entry.silentFor))",
                isUp: entry.isUp && !stopped, isThisNode: record.id == thisNode,
                canForget: canForget && entry.silentFor >= NodeRegistry.forgettableAfter,
                owns: record.owns, leases: entry.leases.map(Self.leaseTitle),
                figures: Self.figures(record.health))
        }
        let versions = Set(entries.map(\.record.version))
        return NodesView(
            nodes: nodes, upCount: nodes.filter(\.isUp).count, total: nodes.count,
            versions: versions.count > 1 ? versions.sorted().joined(separator: ", ") : nil)
    }

    static func leaseTitle(_ name: String) -> String {
        switch name {
        case "audit.tree-heads": "signs audit tree heads"
        case "cases.deadlines": "sweeps case deadlines"
        case "alerts.promotion": "promotes alerts to cases"
        case "detect.correlations": "evaluates Sigma correlations"
        default: name
        }
    }

    static func figures(_ health: NodeHealth) -> [Figure] {
        var figures: [Figure] = []
        if let backlog = health.journalBacklogBytes {
            figures.append(
                Figure(
                    label: "Journal not yet committed",
                    value: backlog == 0 ? "nothing" : ByteCountFormatter.string(fromByteCount: backlog, countStyle: .binary)))
        }
        if let processed = health.eventsProcessed { figures.append(Figure(label: "Events processed since start", value: String(processed))) }
        if let reached = health.peersReached, let checked = health.peersChecked {
            figures.append(Figure(label: "Other nodes reached over mutual TLS", value: "\(reached) of \(checked)"))
        }
        if !health.peerProblems.isEmpty { figures.append(Figure(label: "Not reached", value: health.peerProblems.joined(separator: "; "))) }
        if health.flowsLosing { figures.append(Figure(label: "Traffic data", value: "LOSING FLOWS: see its traffic-data page")) }
        return figures
    }

    static func duration(_ seconds: TimeInterval) -> String {
        let whole = Int(seconds)
        if whole < 120 { return "\(whole) s" }
        if whole < 7_200 { return "\(whole / 60) min" }
        if whole < 172_800 { return "\(whole / 3_600) h" }
        return "\(whole / 86_400) days"
    }
}
