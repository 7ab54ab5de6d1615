import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaCore
import QilaIntel
import QilaStore

/// TAXII 2.1 (OASIS, 2021) over the intelligence desk: discovery, API roots, collections,
/// objects with paging and filters, one object, its versions, the manifest and status. Every
/// answer is `application/taxii+json;version=2.1`; errors are TAXII error messages. Each object
/// a reader receives has passed the desk's TLP decision (docs/decisions/0019).
struct TaxiiRoutes: Sendable {
    let desk: IntelDesk
    let scheme: String

    static let mediaType = "application/taxii+json;version=2.1"
    static let stixMediaType = "application/stix+json;version=2.1"
    /// The largest body a request to add objects may have (the API root's `max_content_length`).
    static let maximumContent = 128 << 20

    func register(on router: Router<QilaRequestContext>) {
        router.get("/taxii2", use: wrap(discovery))
        router.get("/taxii2/:root", use: wrap(apiRoot))
        router.get("/taxii2/:root/status/:status", use: wrap(status))
        router.get("/taxii2/:root/collections", use: wrap(collections))
        router.get("/taxii2/:root/collections/:collection", use: wrap(collection))
        router.get("/taxii2/:root/collections/:collection/manifest", use: wrap(manifest))
        router.get("/taxii2/:root/collections/:collection/objects", use: wrap(objects))
        router.post("/taxii2/:root/collections/:collection/objects", use: wrap(add))
        router.get("/taxii2/:root/collections/:collection/objects/:object", use: wrap(object))
        router.delete("/taxii2/:root/collections/:collection/objects/:object", use: wrap(delete))
        router.get("/taxii2/:root/collections/:collection/objects/:object/versions", use: wrap(versions))
    }

    /// A TAXII failure: its HTTP status and what the error message says.
    struct Failure: Error {
        var status: HTTPResponse.Status
        var title: String
        var description: String?
    }

    typealias Handler = @Sendable (Request, QilaRequestContext) async throws -> Response

    /// Checks what the client accepts, runs the handler, and turns every error into a TAXII
    /// error message with its status.
    func wrap(_ handler: @escaping Handler) -> Handler {
        { request, context in
            do {
                if let accept = request.headers[.accept], !Self.accepts(accept) {
                    throw Failure(status: .notAcceptable, title: "Not acceptable", description: "this server answers \(Self.mediaType)")
                }
                return try await handler(request, context)
            } catch let failure as Failure {
                return Self.error(failure)
            } catch let error as QilaError {
                let status: HTTPResponse.Status =
                    switch error.code {
                    case .notFound: .notFound
                    case .forbidden: .forbidden
                    case .invalidInput: .badRequest
                    case .conflict: .conflict
                    case .unauthenticated: .unauthorized
                    default: .internalServerError
                    }
                return Self.error(Failure(status: status, title: status.reasonPhrase, description: error.description))
            }
        }
    }

    static func accepts(_ accept: String) -> Bool {
        accept.split(separator: ",").contains { part in
            let range = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = range.first else { return false }
            if type == "*/*" || type == "application/*" { return true }
            guard type == "application/taxii+json" else { return false }
            let version = range.dropFirst().first { $0.hasPrefix("version=") }
            return version == nil || version == "version=2.1"
        }
    }

    static func error(_ failure: Failure) -> Response {
        var body: [String: JSONValue] = ["title": .string(failure.title), "http_status": .string(String(failure.status.code))]
        if let description = failure.description { body["description"] = .string(description) }
        var response = respond(.object(body), status: failure.status)
        if failure.status == .unauthorized { response.headers[.wwwAuthenticate] = "Basic realm=\"Qila TAXII\"" }
        return response
    }

    static func respond(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        respond(bytes: (try? value.encoded()) ?? Array("{}".utf8), status: status, headers: headers)
    }

    static func respond(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = mediaType
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func subject(_ context: QilaRequestContext) throws -> Subject {
        guard let subject = context.subject() else {
            throw Failure(status: .unauthorized, title: "Unauthorized", description: "send HTTP Basic credentials: the account's name and one of its API tokens")
        }
        return subject
    }

    func base(_ request: Request) -> String {
        "\(scheme)://\(request.head.authority ?? "localhost")/taxii2/"
    }

    // MARK: discovery and roots

    func discovery(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let roots = try await desk.roots(for: try subject(context))
        var body: [String: JSONValue] = [
            "title": .string("Qila TAXII"), "description": .string("Threat intelligence shared through the national cybersecurity authority."),
            "api_roots": .array(roots.map { .string(base(request) + $0.slug + "/") }),
        ]
        if roots.contains(where: { $0.slug == "national" }) { body["default"] = .string(base(request) + "national/") }
        return Self.respond(.object(body))
    }

    func root(_ context: QilaRequestContext, _ subject: Subject) async throws -> IntelDesk.Root {
        let slug = try context.parameters.require("root")
        guard let root = try await desk.roots(for: subject).first(where: { $0.slug == slug }) else {
            throw Failure(status: .notFound, title: "Not found", description: "no such API root")
        }
        return root
    }

    func apiRoot(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let root = try await root(context, try subject(context))
        return Self.respond(
            .object([
                "title": .string(root.title), "description": .string(root.description), "versions": .array([.string(Self.mediaType)]),
                "max_content_length": .number(Double(Self.maximumContent)),
            ]))
    }

    func status(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let root = try await root(context, subject)
        return Self.respond(bytes: try await desk.status(try context.parameters.require("status"), root: root.slug, for: subject))
    }

    // MARK: collections

    static func describe(_ collection: IntelDesk.Collection) -> JSONValue {
        .object([
            "id": .string(collection.record.id), "title": .string(collection.record.title), "description": .string(collection.record.description),
            "can_read": .bool(collection.canRead), "can_write": .bool(collection.canWrite), "media_types": .array([.string(stixMediaType)]),
        ])
    }

    func collections(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let root = try await root(context, subject)
        let collections = try await desk.collections(for: subject).filter { $0.record.root == root.slug }
        return Self.respond(collections.isEmpty ? .object([:]) : .object(["collections": .array(collections.map(Self.describe))]))
    }

    func collection(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let root = try await root(context, subject)
        return Self.respond(Self.describe(try await desk.collection(try context.parameters.require("collection"), root: root.slug, for: subject)))
    }

    // MARK: objects

    /// The filters and paging of a request (TAXII 2.1 section 3.4), each refused with its name.
    static func query(_ request: Request) throws -> IntelDesk.Query {
        var query = IntelDesk.Query()
        // Clients send `match[id]` with its brackets percent-encoded; the keys are decoded here.
        let pairs = request.uri.queryParameters.map { (String($0.key).removingPercentEncoding ?? String($0.key), String($0.value)) }
        func first(_ name: String) -> String? { pairs.first { $0.0 == name }?.1 }
        if let text = first("added_after") {
            guard let timestamp = StixTimestamp(text) else {
                throw Failure(status: .badRequest, title: "Bad request", description: "added_after is not a timestamp such as 2026-01-31T12:00:00.000Z")
            }
            query.addedAfter = timestamp
        }
        if let text = first("limit") {
            guard let limit = Int(text), limit > 0 else { throw Failure(status: .badRequest, title: "Bad request", description: "limit is not a positive whole number") }
            query.limit = limit
        }
        query.next = first("next")
        func list(_ name: String) -> [String] {
            pairs.filter { $0.0 == name }.flatMap { $0.1.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
        }
        query.ids = list("match[id]")
        query.types = list("match[type]")
        query.specVersions = list("match[spec_version]")
        let versions = list("match[version]")
        query.versionsGiven = !versions.isEmpty
        if !versions.isEmpty {
            query.versions = try versions.map { text -> IntelObjectFilter.Version in
                switch text {
                case "first": return .first
                case "last": return .last
                case "all": return .all
                default:
                    guard let timestamp = StixTimestamp(text) else {
                        throw Failure(status: .badRequest, title: "Bad request", description: "match[version] takes first, last, all or timestamps")
                    }
                    return .at(timestamp.microseconds)
                }
            }
        }
        return query
    }

    static func pageHeaders(_ page: IntelDesk.Page) -> HTTPFields {
        var headers = HTTPFields()
        if let first = page.records.first, let last = page.records.last {
            headers[HTTPField.Name("X-TAXII-Date-Added-First")!] = StixTimestamp(microseconds: first.dateAdded).text
            headers[HTTPField.Name("X-TAXII-Date-Added-Last")!] = StixTimestamp(microseconds: last.dateAdded).text
        }
        return headers
    }

    /// An envelope, written around the stored objects' bytes rather than decoding them.
    static func envelope(_ page: IntelDesk.Page) -> [UInt8] {
        var out = Array("{\"more\":\(page.more)".utf8)
        if let next = page.next { out += Array(",\"next\":\"\(next)\"".utf8) }
        if !page.bodies.isEmpty {
            out += Array(",\"objects\":[".utf8)
            for (index, body) in page.bodies.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += body
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    func objects(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let root = try await root(context, subject)
        let page = try await desk.objects(Self.query(request), in: try context.parameters.require("collection"), root: root.slug, for: subject)
        return Self.respond(bytes: Self.envelope(page), headers: Self.pageHeaders(page))
    }

    func object(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let root = try await root(context, subject)
        var query = try Self.query(request)
        query.ids = [try context.parameters.require("object")]
        let page = try await desk.objects(query, in: try context.parameters.require("collection"), root: root.slug, for: subject)
        guard !page.records.isEmpty || query.next != nil else { throw Failure(status: .notFound, title: "Not found", description: "no such object") }
        return Self.respond(bytes: Self.envelope(page), headers: Self.pageHeaders(page))
    }

    func manifest(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let root = try await root(context, subject)
        let page = try await desk.objects(Self.query(request), in: try context.parameters.require("collection"), root: root.slug, for: subject, bodies: false)
        var body: [String: JSONValue] = ["more": .bool(page.more)]
        if let next = page.next { body["next"] = .string(next) }
        if !page.records.isEmpty {
            body["objects"] = .array(
                page.records.map { record in
                    .object([
                        "id": .string(record.id), "date_added": .string(StixTimestamp(microseconds: record.dateAdded).text),
                        "version": .string(record.versionText), "media_type": .string(Self.stixMediaType),
                    ])
                })
        }
        return Self.respond(.object(body), headers: Self.pageHeaders(page))
    }

    func versions(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let root = try await root(context, subject)
        let page = try await desk.versions(
            of: try context.parameters.require("object"), Self.query(request), in: try context.parameters.require("collection"), root: root.slug,
            for: subject)
        var body: [String: JSONValue] = ["more": .bool(page.more), "versions": .array(page.records.map { .string($0.versionText) })]
        if let next = page.next { body["next"] = .string(next) }
        return Self.respond(.object(body), headers: Self.pageHeaders(page))
    }

    func add(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let root = try await root(context, subject)
        let type = request.headers[.contentType]?.lowercased().replacingOccurrences(of: " ", with: "") ?? ""
        guard type.hasPrefix("application/taxii+json"), !type.contains("version=") || type.contains("version=2.1") else {
            throw Failure(status: .unsupportedMediaType, title: "Unsupported media type", description: "send \(Self.mediaType)")
        }
        let body = try await request.body.collect(upTo: Self.maximumContent)
        let envelope: JSONValue
        do {
            envelope = try JSONValue.decode(body.readableBytesView)
        } catch {
            throw Failure(status: .badRequest, title: "Bad request", description: "the body is not JSON")
        }
        guard envelope["objects"]?.array != nil else {
            throw Failure(status: .unprocessableContent, title: "Unprocessable", description: "the body is not a TAXII envelope: it has no 'objects' list")
        }
        let status = try await desk.add(
            envelope, request: Array(body.readableBytesView), to: try context.parameters.require("collection"), root: root.slug, by: subject,
            mayDefer: true)
        return Self.respond(IntelDesk.statusResource(status), status: .accepted)
    }

    func delete(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let root = try await root(context, subject)
        let query = try Self.query(request)
        try await desk.delete(
            try context.parameters.require("object"), versions: query.versionsGiven ? query.versions : [.all],
            in: try context.parameters.require("collection"), root: root.slug, by: subject)
        return Self.respond(bytes: [])
    }
}
