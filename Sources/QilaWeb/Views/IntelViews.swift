import Foundation
import QilaCore
import QilaIntel
import QilaStore

/// One object version in a list: what it is, its marking, where it sits and where it came from.
struct IntelObjectRow: Sendable {
    var id, href, type, name, marking, markingClass, collection, added: String
    var source: String?
    var revoked: Bool
}

/// The shared-intelligence page: search across everything the reader may see, the collections
/// the reader reaches (who reads each), and a collection's latest objects.
struct IntelView: Sendable {
    struct Collection: Sendable {
        var id, title, root, readers, href: String
        var canWrite, chosen: Bool
    }

    /// What the last upload did.
    let message: String?
    /// Collections the reader may add files to, and a refused upload's reasons by field.
    let importCollections: [Choice]
    let canImport: Bool
    let importFileError, importCollectionError: String?
    let query: String
    let searched: Bool
    let results: [IntelObjectRow]
    let hasResults: Bool
    let searchError: String?
    let collections: [Collection]
    let chosen: Collection?
    let objects: [IntelObjectRow]
    let hasObjects: Bool
    let nextHref: String?
    let showPeers: Bool
    /// The default recipients of the reader's AMBER objects in the chosen collection.
    let recipients: Recipients?
    /// Defining a trust group, for the authority's administrators.
    let group: Group?

    struct Recipients: Sendable {
        var action: String
        var choices: [Choice]
        var error: String?
    }

    struct Group: Sendable {
        var title, slug: String
        var members: [Choice]
        var titleError, slugError, membersError: String?
    }
}

/// One object: its versions as the reader may see them, its relationships, and for an
/// indicator its standing, sightings and the forms to report one or set its score.
struct IntelObjectView: Sendable {
    struct Version: Sendable {
        var version, added, marking, markingClass, collection, producer: String
        var source: String?
        var json: String
    }

    struct Sighting: Sendable {
        var organisation, kind, source, lastSeen, note: String
        var count: Int
    }

    let id: String
    let path: String
    let title: String
    let type: String
    let versions: [Version]
    let related: [IntelObjectRow]
    let hasRelated: Bool
    let isIndicator: Bool
    let score: String?
    let active: Bool
    let reasons: [String]
    let excluded: String?
    let sightings: [Sighting]
    let hasSightings: Bool
    let seen, falsePositives, organisations: Int
    let chart: String
    let message: String?
    let sightingForm: FormView?
    let scoreForm: FormView?
    let canClearScore: Bool

    static let sightingFormName = "intel.sighting"
    static let scoreFormName = "intel.score"

    static func sightingFields(state: FormState?) -> [FieldView] {
        [
            FieldView(
                "kind", label: "What your organisation found",
                control: .select([
                    .init(value: "seen", label: "Seen in our systems"), .init(value: "false-positive", label: "A false positive"),
                    .init(value: "expired", label: "No longer valid (expired)"),
                ]), required: true, state: state, initial: "seen"),
            FieldView("count", label: "How many times", control: .text(type: "number"), state: state, initial: "1"),
            FieldView("note", label: "Note", control: .textarea(rows: 2), hint: "Seen by the authority and your organisation only.", state: state),
        ]
    }

    static func scoreFields(state: FormState?) -> [FieldView] {
        [
            FieldView("score", label: "Score (0 to 100)", control: .text(type: "number"), required: true, state: state),
            FieldView("reason", label: "Reason", control: .textarea(rows: 2), hint: "Kept with the score and shown in its explanation.", required: true, state: state),
        ]
    }
}

/// The peers the installation polls, and the form to subscribe to one.
struct IntelPeersView: Sendable {
    struct Row: Sendable {
        var id, name, kind, url, collection, interval, lastPoll, error: String
        var objects: Int
        var failing: Bool
    }

    let peers: [Row]
    let hasPeers: Bool
    let message: String?
    let canChange: Bool
    let addForm: FormView?

    static let addFormName = "intel.peer"

    static func addFields(collections: [(id: String, title: String)], state: FormState?) -> [FieldView] {
        [
            FieldView("name", label: "Name", hint: "How the installation calls this peer, for example the CERT's name.", required: true, state: state),
            FieldView(
                "format", label: "Kind", control: .select(IntelPeerDesk.Format.allCases.map { .init(value: $0.rawValue, label: $0.title) }), required: true,
                state: state, initial: IntelPeerDesk.Format.taxii.rawValue),
            FieldView(
                "url", label: "Address",
                hint: "A TAXII collection: https://server/api-root/collections/ID/. A MISP feed: the directory holding manifest.json. Plain http only to this machine.",
                required: true, state: state),
            FieldView(
                "collection", label: "Objects go to", control: .select(collections.map { .init(value: $0.id, label: $0.title) }), required: true,
                state: state, initial: collections.first?.id ?? ""),
            FieldView("username", label: "Account name at the peer", hint: "A public MISP feed needs none.", state: state, autocomplete: "off"),
            FieldView(
                "password", label: "Password or token at the peer", control: .text(type: "password"), hint: "Sealed with the installation's key.", state: state,
                autocomplete: "new-password"),
            FieldView("interval", label: "Seconds between polls", control: .text(type: "number"), required: true, state: state, initial: "3600"),
            FieldView("trust", label: "Certificate authority (PEM)", control: .textarea(rows: 3), hint: "Only if the peer's certificate is not from a public authority.", state: state),
        ]
    }
}

/// For producers: who received their AMBER and RED objects.
struct IntelDisclosuresView: Sendable {
    struct Row: Sendable {
        var object, href, version, marking, markingClass, account, organisation, time: String
    }

    let rows: [Row]
    let hasRows: Bool
}
