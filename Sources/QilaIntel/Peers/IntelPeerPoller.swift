public import Logging
public import QilaStore
public import ServiceLifecycle

/// Polls the peers whose time has come, every few seconds, on the node holding the
/// `intel.peers` lease: one poll of a peer at a time across the installation. A node that dies
/// mid-poll leaves the cursor where it was, and the next holder repeats the poll.
public struct IntelPeerPoller: Service {
    let desk: IntelPeerDesk
    let lease: Lease
    let interval: Duration
    let logger: Logger

    public init(desk: IntelPeerDesk, lease: Lease, interval: Duration = .seconds(5), logger: Logger) {
        self.desk = desk
        self.lease = lease
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await everyRound(interval, logger: logger, failure: "polling peers failed") {
            let polled = try await lease.ifHeld { try await desk.pollDue() } ?? []
            for (peer, poll) in polled {
                if let error = poll.error {
                    logger.warning("a peer's poll failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
                } else if poll.added > 0 {
                    logger.info("intelligence received", metadata: ["peer": "\(peer)", "added": "\(poll.added)", "pages": "\(poll.pages)"])
                }
            }
        }
        await lease.release()
    }
}
