import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaCore
import QilaIngest
import QilaStore

/// HTTP bulk intake (`POST /api/v1/intake`): JSON lines or a CloudTrail file, gzip accepted, from
/// a sensor's service account (API token with the `ingest` scope, or its client certificate).
/// Answered 202 only once the batch is in the journal and synced to disk.
struct IntakeRoutes: Sendable {
    let installation: Installation
    let enforcement: PolicyEnforcementPoint
    let intake: IntakeRuntime
    /// Largest body accepted, compressed or not, and largest once decompressed.
    static let bodyLimit = 32 << 20
    static let inflatedLimit = 256 << 20

    func register(on router: Router<QilaRequestContext>) {
        router.post("/api/v1/intake", use: receive)
    }

    func receive(_ request: Request, context: QilaRequestContext) async throws -> Response {
        guard let principal = context.principal, let subject = context.subject() else { throw Problem.unauthenticated }
        // Before sensors are loaded no account has one: "send again" rather than "forbidden".
        guard intake.isReady else { return Self.retryLater(503, "intake is starting; send the batch again shortly", after: 2) }
        let name = request.uri.queryParameters.get("sensor")
        let transport: Sensor.Transport = .http
        guard let sensor = intake.directory.sensor(account: principal.user.id, transport: transport, name: name) else {
            intake.directory.unknownSource("http:\(principal.user.username)")
            throw Problem(
                .forbidden,
                name.map { "the account has no enabled HTTP sensor named '\($0)'" }
                    ?? "the account has no enabled HTTP sensor; register one on /sensors with this account")
        }
        do {
            _ = try await enforcement.require(
                subject, .create, Resource(kind: .telemetry, owner: sensor.organisation, reference: "sensor:\(sensor.id)"), source: context.sourceAddress)
        } catch {
            intake.directory.refused(sensor.id, "wrong-credentials", detail: "the credentials may not send for this sensor")
            throw error
        }
        var buffer = try await request.body.collect(upTo: Self.bodyLimit)
        let encoding = request.headers[.contentEncoding]?.lowercased()
        let gzipped = encoding == "gzip" || (encoding == nil && buffer.readableBytes >= 2 && buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x1F8B)
        if gzipped {
            do {
                buffer = try buffer.decompress(with: .gzip(), maxSize: Self.inflatedLimit)
            } catch {
                intake.directory.refused(sensor.id, "bad-gzip", detail: "the gzip body could not be read: \(error)")
                throw Problem(.badRequest, "the body is not valid gzip, or inflates to more than \(Self.inflatedLimit) bytes")
            }
        } else if let encoding, encoding != "identity" {
            throw Problem(.unsupportedMediaType, "Content-Encoding \(encoding) is not accepted; send gzip or nothing")
        }
        let body = buffer.readBytes(length: buffer.readableBytes) ?? []
        switch await intake.accept(body, sensor: sensor) {
        case .accepted(let records, let refusals):
            let payload: [String: Any] = [
                "sensor": sensor.id.description, "accepted": records, "refused": refusals.count,
                "errors": refusals.prefix(100).map { ["line": $0.line, "error": $0.reason] },
            ]
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            let data = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
            return Response(status: .accepted, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        case .refused(let status, let reason, let retryAfter):
            return Self.retryLater(status, reason, after: retryAfter)
        }
    }

    /// A problem answer, with Retry-After when the sender should try again.
    static func retryLater(_ status: Int, _ reason: String, after seconds: Int?) -> Response {
        var response = Problem(HTTPResponse.Status(code: status), reason).response()
        if let seconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }
}
