public import Foundation
public import QilaCore
public import QilaStore

/// The provider's own JSON files under `/.well-known/csaf/`: `provider-metadata.json` (CSAF 2.1
/// section 7.1.7, role `csaf_trusted_provider`) and a ROLIE feed per marking (RFC 8322 in the JSON
/// form CSAF 2.1 section 7.1.15 shows). Built from typed values and written with sorted keys.
public struct CSAFProvider: Sendable {
    /// The public address, without a trailing slash: `https://cert.example.pk`.
    public var origin: String
    public var publisherName: String
    public var namespace: String
    public static let root = "/.well-known/csaf"

    public init(origin: String, publisherName: String, namespace: String) {
        self.origin = origin
        self.publisherName = publisherName
        self.namespace = namespace
    }

    var base: String { origin + Self.root }

    /// The provider metadata: a directory and a ROLIE feed per marking, the signing key, the publisher.
    public func metadata(revisions: [AdvisoryRevision], keyFingerprint: String) throws -> Data {
        let updated = revisions.map(\.publishedAt).max() ?? Date(timeIntervalSince1970: 0)
        let feeds = TLP.allCases.map { tlp in
            Feed(
                summary: "\(tlp.rawValue) advisories of \(publisherName)\(tlp == .clear ? "" : " (for signed-in readers the marking allows)")",
                tlpLabel: Self.label(tlp), url: "\(base)/feed-tlp-\(CSAFDocument.folder(tlp)).json",
                lastUpdated: RFC3339.format(revisions.filter { $0.tlp == tlp }.map(\.publishedAt).max() ?? updated))
        }
        let metadata = Metadata(
            canonicalURL: "\(base)/provider-metadata.json", lastUpdated: RFC3339.format(updated),
            publisher: Publisher(name: publisherName, namespace: namespace),
            publicOpenPGPKeys: [Key(fingerprint: keyFingerprint, url: "\(base)/openpgp/\(keyFingerprint).asc")],
            distributions: TLP.allCases.map { Distribution(directory: Directory(tlpLabel: Self.label($0), url: "\(base)/\(CSAFDocument.folder($0))/")) }
                + [Distribution(rolie: ROLIE(feeds: feeds))])
        return try CSAFDocument.encoder.encode(metadata)
    }

    /// The feed of one marking: the latest revision of each document the reader may read, newest
    /// first; `initialRelease` gives each document's first publication.
    public func feed(_ tlp: TLP, latest entries: [AdvisoryRevision], initialRelease: (AdvisoryRevision) -> Date) throws -> Data {
        let name = "feed-tlp-\(CSAFDocument.folder(tlp)).json"
        let feed = ROLIEFeed(
            feed: ROLIEFeed.Body(
                id: "\(namespace)/csaf-feed-tlp-\(CSAFDocument.folder(tlp))", title: "\(publisherName): \(tlp.rawValue) CSAF advisories",
                link: [Link(rel: "self", href: "\(base)/\(name)")], updated: RFC3339.format(entries.first?.publishedAt ?? Date(timeIntervalSince1970: 0)),
                entry: entries.map { revision in
                    let url = "\(base)/\(revision.path)"
                    return Entry(
                        id: String(revision.path.split(separator: "/").last?.dropLast(5) ?? ""), title: revision.title,
                        link: [Link(rel: "self", href: url), Link(rel: "hash", href: url + ".sha256"), Link(rel: "hash", href: url + ".sha512"),
                               Link(rel: "signature", href: url + ".asc")],
                        published: RFC3339.format(initialRelease(revision)), updated: RFC3339.format(revision.publishedAt), content: Content(src: url))
                }))
        return try CSAFDocument.encoder.encode(feed)
    }

    /// `CLEAR`, `AMBER+STRICT`: the label without its `TLP:` prefix, as the schema spells it.
    static func label(_ tlp: TLP) -> String { String(tlp.rawValue.dropFirst(4)) }

    // MARK: provider-metadata.json

    struct Metadata: Encodable {
        var schema = "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/provider.json"
        var canonicalURL: String
        var lastUpdated: String
        var listOnAggregators = true
        var mirrorOnAggregators = true
        var metadataVersion = "2.1"
        var publisher: Publisher
        var role = "csaf_trusted_provider"
        var publicOpenPGPKeys: [Key]
        var distributions: [Distribution]
        enum CodingKeys: String, CodingKey {
            case schema = "$schema", canonicalURL = "canonical_url", lastUpdated = "last_updated", listOnAggregators = "list_on_CSAF_aggregators",
                mirrorOnAggregators = "mirror_on_CSAF_aggregators", metadataVersion = "metadata_version", publisher, role,
                publicOpenPGPKeys = "public_openpgp_keys", distributions
        }
    }
    struct Publisher: Encodable {
        var category = "coordinator"
        var name: String
        var namespace: String
    }
    struct Key: Encodable { var fingerprint, url: String }
    struct Distribution: Encodable {
        var directory: Directory?
        var rolie: ROLIE?
        init(directory: Directory) { (self.directory, self.rolie) = (directory, nil) }
        init(rolie: ROLIE) { (self.directory, self.rolie) = (nil, rolie) }
    }
    struct Directory: Encodable {
        var tlpLabel: String
        var url: String
        enum CodingKeys: String, CodingKey { case tlpLabel = "tlp_label", url }
    }
    struct ROLIE: Encodable { var feeds: [Feed] }
    struct Feed: Encodable {
        var summary: String
        var tlpLabel: String
        var url: String
        var lastUpdated: String
        enum CodingKeys: String, CodingKey { case summary, tlpLabel = "tlp_label", url, lastUpdated = "last_updated" }
    }

    // MARK: ROLIE feeds

    struct ROLIEFeed: Encodable {
        struct Body: Encodable {
            var id: String
            var title: String
            var link: [Link]
            var category = [Category()]
            var updated: String
            var entry: [Entry]
        }
        var feed: Body
    }
    struct Category: Encodable {
        var scheme = "urn:ietf:params:rolie:category:information-type"
        var term = "csaf"
    }
    struct Link: Encodable { var rel, href: String }
    struct Entry: Encodable {
        var id: String
        var title: String
        var link: [Link]
        var published: String
        var updated: String
        var content: Content
        var format = Format()
    }
    struct Content: Encodable {
        var type = "application/json"
        var src: String
    }
    struct Format: Encodable {
        var schema = "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/csaf.json"
        var version = "2.1"
    }
}
