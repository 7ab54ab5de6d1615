import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaCore
import QilaIntel

/// A collection as a MISP feed, for MISP instances (and anyone with a token) to fetch:
/// `/misp/feeds/{collection}/manifest.json`, `hashes.csv` and `{event}.json`. Authentication as
/// for TAXII (a token as Bearer, or an account's name and token as HTTP Basic, which MISP's feed
/// settings can send); each reader gets the feed of what its TLP decisions let it see.
struct MispFeedRoutes: Sendable {
    let desk: IntelDesk

    func register(on router: Router<QilaRequestContext>) {
        router.get("/misp/feeds/:collection/:file", use: file)
    }

    func file(_ request: Request, context: QilaRequestContext) async throws -> Response {
        guard let subject = context.subject() else { throw Problem.unauthenticated }
        let collection = try context.parameters.require("collection")
        let name = try context.parameters.require("file")
        let feed: MispFeed
        do {
            feed = try await desk.mispFeed(collection: collection, for: subject)
        } catch let error as QilaError where error.code == .notFound || error.code == .forbidden {
            throw Problem(.notFound, "no such feed")
        }
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        let body: [UInt8]
        switch name {
        case "manifest.json":
            headers[.contentType] = "application/json"
            body = try feed.manifest.encoded()
        case "hashes.csv":
            headers[.contentType] = "text/csv; charset=utf-8"
            body = Array(feed.hashes.utf8)
        default:
            guard name.hasSuffix(".json"), let event = feed.events[String(name.dropLast(5))] else { throw Problem(.notFound, "no such event in the feed") }
            headers[.contentType] = "application/json"
            body = try event.encoded()
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
