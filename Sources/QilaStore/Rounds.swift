public import Logging
import ServiceLifecycle

/// The loop of a background job (a sweep, a poll, a queue's worker): `round` every `interval`
/// until the task is cancelled or the service group shuts down gracefully, which ends a pause at
/// once rather than after it. A failed round is logged under `failure` and the next one comes;
/// `pauseFirst` waits an interval before the first round.
public func everyRound(
    _ interval: Duration, logger: Logger, failure: @autoclosure () -> Logger.Message, pauseFirst: Bool = false,
    _ round: () async throws -> Void
) async {
    var pause = pauseFirst
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
        if pause { try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } }
        pause = true
        guard !Task.isCancelled && !Task.isShuttingDownGracefully else { return }
        do {
            try await round()
        } catch {
            logger.error(failure(), metadata: ["error": "\(error)"])
        }
    }
}
