import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaCore
import QilaStore
import QilaVulnerabilities

/// The CSAF 2.1 provider (section 7 of the specification): `/.well-known/csaf/provider-metadata.json`,
/// one folder per marking with a folder per year, `index.txt` and `changes.csv`, a ROLIE feed per
/// marking, each document's `.sha256`, `.sha512` and `.asc`, the OpenPGP key, and
/// `/.well-known/security.txt` naming the provider. TLP:CLEAR needs no sign-in; every other
/// marking needs an account (session, API token — also as HTTP Basic — or client certificate)
/// the advisory's marking allows, and what such a reader is given lists only what it may read.
struct CSAFProviderPages: PageCollection {
    let kit: PageKit
    static let navigation: [NavigationEntry] = []
    static let root = CSAFProvider.root

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/.well-known/security.txt", use: securityText)
        routes.get("/.well-known/csaf/provider-metadata.json", use: providerMetadata)
        routes.get("/.well-known/csaf/openpgp/{file}", use: publicKey)
        routes.get("/.well-known/csaf/{tlp}", use: feed)
        routes.get("/.well-known/csaf/{tlp}/index.txt", use: index)
        routes.get("/.well-known/csaf/{tlp}/{year}", use: yearListing)
        routes.get("/.well-known/csaf/{tlp}/changes.csv", use: changes)
        routes.get("/.well-known/csaf/{tlp}/{year}/{file}", use: file)
        return routes
    }

    var origin: String { PublicOrigin.configured(web).text }

    static func text(_ body: String, type: String = "text/plain; charset=utf-8") -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func json(_ data: Data) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The marking a folder or feed name stands for: `clear`, `green`, `amber`, `amber+strict`, `red`.
    static func marking(_ folder: String) -> TLP? { TLP.allCases.first { CSAFDocument.folder($0) == folder } }

    /// Whether the request may see documents of a marking at all: CLEAR anyone; others a signed-in reader.
    func reader(for tlp: TLP, _ context: QilaRequestContext) throws -> Subject? {
        if tlp == .clear { return context.subject() }
        guard let subject = context.subject() else {
            throw Problem(.unauthorized, "\(tlp.rawValue) advisories are given to signed-in readers the marking allows: send an API token (Bearer or HTTP Basic) or a client certificate")
        }
        return subject
    }

    /// The revisions of a marking the reader may read, newest first.
    func readable(_ tlp: TLP, _ subject: Subject?, desk: AdvisoryDesk) async throws -> [AdvisoryRevision] {
        try await desk.allRevisions().filter { $0.tlp == tlp && desk.may(subject, read: $0) }
    }

    func securityText(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let authority = try await store.organisations().first { $0.kind == .authority }
        // RFC 9116: Contact and Expires are required; CSAF 2.1 section 7.1.8 adds the CSAF field.
        let expires = RFC3339.format(Date().addingTimeInterval(180 * 86_400))
        return Self.text(
            """
            # Security contact of \(authority?.name ?? "this Qila installation")
            Contact: \(origin)/public/vulnerabilities
            Policy: \(origin)/public/vulnerabilities
            Expires: \(expires)
            Preferred-Languages: en, ur
            Canonical: \(origin)/.well-known/security.txt
            CSAF: \(origin)\(Self.root)/provider-metadata.json

            """)
    }

    func providerMetadata(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let desk = try await AdvisoryPages.desk(kit)
        let provider = CSAFProvider(origin: origin, publisherName: desk.publisherName, namespace: desk.namespace)
        return Self.json(try provider.metadata(revisions: try await desk.allRevisions(), keyFingerprint: desk.publicKey.fingerprint))
    }

    func publicKey(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let key = try await AdvisoryPages.desk(kit).publicKey
        guard try context.parameters.require("file") == "\(key.fingerprint).asc" else { throw Problem(.notFound, "no such key: this provider signs with \(key.fingerprint)") }
        return Self.text(key.armored, type: "application/pgp-keys")
    }

    /// A ROLIE feed (RFC 8322, in its JSON form as CSAF 2.1 section 7.1.15 shows it) of one marking.
    func feed(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let name = try context.parameters.require("tlp")
        if let tlp = Self.marking(name) { return try await folderListing(tlp, context) }
        guard name.hasPrefix("feed-tlp-"), name.hasSuffix(".json"), let tlp = Self.marking(String(name.dropFirst(9).dropLast(5))) else {
            throw Problem(.notFound, "no such file under \(Self.root)/")
        }
        let subject = try reader(for: tlp, context)
        let desk = try await AdvisoryPages.desk(kit)
        // The latest revision of each document, as the feed lists documents, not revisions.
        var latest: [String: AdvisoryRevision] = [:]
        for revision in try await readable(tlp, subject, desk: desk) where latest[revision.advisoryID].map({ $0.number < revision.number }) ?? true {
            latest[revision.advisoryID] = revision
        }
        let entries = latest.values.sorted { $0.publishedAt > $1.publishedAt }
        let all = try await desk.allRevisions()
        let provider = CSAFProvider(origin: origin, publisherName: desk.publisherName, namespace: desk.namespace)
        return Self.json(
            try provider.feed(tlp, latest: entries) { revision in
                all.filter { $0.advisoryID == revision.advisoryID }.map(\.publishedAt).min() ?? revision.publishedAt
            })
    }

    /// Requirement 14: a server-generated listing of a marking's folder (its years, index.txt, changes.csv).
    func folderListing(_ tlp: TLP, _ context: QilaRequestContext) async throws -> Response {
        let subject = try reader(for: tlp, context)
        let desk = try await AdvisoryPages.desk(kit)
        let years = Set(try await readable(tlp, subject, desk: desk).compactMap { $0.path.split(separator: "/").dropFirst().first.map(String.init) })
        return Self.listing("\(Self.root)/\(CSAFDocument.folder(tlp))/", entries: years.sorted().map { $0 + "/" } + ["changes.csv", "index.txt"])
    }

    func yearListing(_ request: Request, context: QilaRequestContext) async throws -> Response {
        guard let tlp = Self.marking(try context.parameters.require("tlp")) else { throw Problem(.notFound, "no such folder under \(Self.root)/") }
        let year = try context.parameters.require("year")
        let subject = try reader(for: tlp, context)
        let desk = try await AdvisoryPages.desk(kit)
        let prefix = "\(CSAFDocument.folder(tlp))/\(year)/"
        let files = Set(try await readable(tlp, subject, desk: desk).filter { $0.path.hasPrefix(prefix) }.map { String($0.path.dropFirst(prefix.count)) })
        guard !files.isEmpty else { throw Problem(.notFound, "no documents under \(Self.root)/\(prefix) that you may read") }
        return Self.listing("\(Self.root)/\(prefix)", entries: files.sorted().flatMap { [$0, $0 + ".asc", $0 + ".sha256", $0 + ".sha512"] })
    }

    static func listing(_ path: String, entries: [String]) -> Response {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let items = entries.map { "<li><a href=\"\(escape(path + $0))\">\(escape($0))</a></li>" }.joined(separator: "\n")
        return text(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Index of \(escape(path))</title></head>\n"
                + "<body><h1>Index of \(escape(path))</h1>\n<ul>\n\(items)\n</ul></body></html>\n", type: "text/html; charset=utf-8")
    }

    func index(_ request: Request, context: QilaRequestContext) async throws -> Response {
        guard let tlp = Self.marking(try context.parameters.require("tlp")) else { throw Problem(.notFound, "no such folder under \(Self.root)/") }
        let subject = try reader(for: tlp, context)
        let desk = try await AdvisoryPages.desk(kit)
        let paths = Set(try await readable(tlp, subject, desk: desk).map { String($0.path.dropFirst(CSAFDocument.folder(tlp).count + 1)) })
        return Self.text(paths.sorted().map { $0 + "\n" }.joined())
    }

    /// Every document, the most recently changed first: its path and the time of its latest revision.
    func changes(_ request: Request, context: QilaRequestContext) async throws -> Response {
        guard let tlp = Self.marking(try context.parameters.require("tlp")) else { throw Problem(.notFound, "no such folder under \(Self.root)/") }
        let subject = try reader(for: tlp, context)
        let desk = try await AdvisoryPages.desk(kit)
        var seen = Set<String>()
        var lines: [String] = []
        for revision in try await readable(tlp, subject, desk: desk) where seen.insert(revision.path).inserted {
            // CSAF 2.1 requirement 13: the path, then current_release_date, unquoted, newest first.
            lines.append("\(revision.path.dropFirst(CSAFDocument.folder(tlp).count + 1)),\(RFC3339.format(revision.publishedAt))")
        }
        return Self.text(lines.map { $0 + "\n" }.joined(), type: "text/csv; charset=utf-8")
    }

    func file(_ request: Request, context: QilaRequestContext) async throws -> Response {
        guard let tlp = Self.marking(try context.parameters.require("tlp")) else { throw Problem(.notFound, "no such folder under \(Self.root)/") }
        let year = try context.parameters.require("year")
        let name = try context.parameters.require("file")
        let subject = try reader(for: tlp, context)
        let desk = try await AdvisoryPages.desk(kit)
        let suffixes = [".json.sha256", ".json.sha512", ".json.asc", ".json"]
        guard let suffix = suffixes.first(where: { name.hasSuffix($0) }) else { throw Problem(.notFound, "no such file under \(Self.root)/") }
        let path = "\(CSAFDocument.folder(tlp))/\(year)/\(name.dropLast(suffix.count - 5))"
        guard let revision = try await readable(tlp, subject, desk: desk).first(where: { $0.path == path }) else {
            throw Problem(.notFound, "no document \(path) that you may read")
        }
        if let subject { try await desk.recordDisclosure(revision, to: subject, via: "csaf provider") }
        let file = String(name.dropLast(suffix.count - 5))
        switch suffix {
        case ".json.sha256": return Self.text("\(revision.sha256)  \(file)\n")
        case ".json.sha512": return Self.text("\(revision.sha512)  \(file)\n")
        case ".json.asc": return Self.text(revision.signature, type: "application/pgp-signature")
        default:
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: revision.document)))
        }
    }
}
