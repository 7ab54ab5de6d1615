public import Foundation
public import QilaCore

/// The results of a phishing simulation as GoPhish exports them: the campaign results CSV (the
/// "Export CSV → Results" button: one row per recipient with `id, status, ip, latitude,
/// longitude, send_date, reported, modified_date, email, first_name, last_name, position`, in any
/// order, possibly after a byte-order mark) or the campaign JSON of its API (`GET
/// /api/campaigns/{id}/results` or `/api/campaigns/{id}`: an object with `name`, `launch_date` and
/// `results`, or the bare list of results). GoPhish keeps each recipient's furthest step as
/// `status` (Email Sent, Email Opened, Clicked Link, Submitted Data) and a separate `reported` flag.
public struct PhishingResults: Sendable, Equatable {
    public struct Recipient: Sendable, Equatable {
        public var email: String
        public var firstName: String
        public var lastName: String
        public var position: String
        public var status: String
        public var sentAt: Date?
        public var reported: Bool

        public var opened: Bool { clicked || status == "Email Opened" }
        public var clicked: Bool { submitted || status == "Clicked Link" }
        public var submitted: Bool { status == "Submitted Data" }
        /// Whether the simulation reached them at all (not an error, not still scheduled).
        public var sent: Bool { !["Error", "Scheduled", "Sending", "Queued"].contains(status) }
    }

    /// The campaign's name, when the file carries it (the JSON does; the CSV does not).
    public var name: String?
    /// When it was launched: the JSON's `launch_date`, else the earliest `send_date`.
    public var launchedAt: Date?
    public var recipients: [Recipient]

    /// A problem with the file, with the line (CSV) or the path (JSON) it is at.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var location: String
        public var message: String
        public var description: String { "\(location): \(message)" }
    }

    public static let maximumRecipients = 100_000

    /// Reads either format, told apart by the first character that is not white space.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> PhishingResults {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ParseError(location: "file", message: "is not UTF-8 text; export the results from GoPhish as CSV or JSON")
        }
        let start = text.drop { $0.isWhitespace || $0 == "\u{FEFF}" }.first
        return start == "{" || start == "[" ? try json(text) : try csv(text)
    }

    static func csv(_ text: String) throws(ParseError) -> PhishingResults {
        let rows: [[String]]
        do { rows = try CSV.rows(text) } catch { throw ParseError(location: "line \(error.line)", message: error.message) }
        guard let header = rows.first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) else {
            throw ParseError(location: "line 1", message: "the file is empty; export the campaign's results from GoPhish")
        }
        guard let emailColumn = header.firstIndex(of: "email"), let statusColumn = header.firstIndex(of: "status") else {
            throw ParseError(location: "line 1", message: "the header has no 'email' and 'status' columns: is this GoPhish's results export (not its events)?")
        }
        func column(_ name: String) -> Int? { header.firstIndex(of: name) }
        guard rows.count - 1 <= maximumRecipients else {
            throw ParseError(location: "file", message: "has \(rows.count - 1) recipients; at most \(maximumRecipients) are read at once")
        }
        var recipients: [Recipient] = []
        for (index, row) in rows.dropFirst().enumerated() {
            let line = index + 2
            func value(_ column: Int?) -> String {
                guard let column, column < row.count else { return "" }
                // GoPhish escapes a leading formula character with a quote.
                var text = row[column].trimmingCharacters(in: .whitespaces)
                if text.hasPrefix("'"), let second = text.dropFirst().first, "=+-@".contains(second) { text.removeFirst() }
                return text
            }
            guard row.count == header.count else {
                throw ParseError(location: "line \(line)", message: "has \(row.count) fields where the header has \(header.count)")
            }
            recipients.append(try recipient(
                email: value(emailColumn), status: value(statusColumn), first: value(column("first_name")), last: value(column("last_name")),
                position: value(column("position")), sent: value(column("send_date")), reported: value(column("reported")), at: "line \(line)"))
        }
        return PhishingResults(name: nil, launchedAt: recipients.compactMap(\.sentAt).min(), recipients: recipients)
    }

    static func json(_ text: String) throws(ParseError) -> PhishingResults {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(text.utf8)) } catch {
            throw ParseError(location: "file", message: "is not valid JSON")
        }
        let list: [Any]
        var name: String?
        var launched: Date?
        if let array = object as? [Any] {
            list = array
        } else if let campaign = object as? [String: Any], let results = campaign["results"] as? [Any] {
            list = results
            name = campaign["name"] as? String
            launched = (campaign["launch_date"] as? String).flatMap(RFC3339.parse)
        } else {
            throw ParseError(location: "$", message: "must be a GoPhish campaign (with 'results') or a list of results")
        }
        guard list.count <= maximumRecipients else {
            throw ParseError(location: "$.results", message: "has \(list.count) recipients; at most \(maximumRecipients) are read at once")
        }
        var recipients: [Recipient] = []
        for (index, item) in list.enumerated() {
            let path = "$.results[\(index)]"
            guard let result = item as? [String: Any] else { throw ParseError(location: path, message: "must be an object") }
            func string(_ key: String) -> String { (result[key] as? String) ?? "" }
            let reported = (result["reported"] as? Bool).map { $0 ? "true" : "false" } ?? string("reported")
            recipients.append(try recipient(
                email: string("email"), status: string("status"), first: string("first_name"), last: string("last_name"), position: string("position"),
                sent: string("send_date"), reported: reported, at: path))
        }
        return PhishingResults(name: name, launchedAt: launched ?? recipients.compactMap(\.sentAt).min(), recipients: recipients)
    }

    static func recipient(
        email: String, status: String, first: String, last: String, position: String, sent: String, reported: String, at location: String
    ) throws(ParseError) -> Recipient {
        guard let address = TrainingDesk.email(email) else {
            throw ParseError(location: location, message: "'\(email.prefix(60))' is not an e-mail address")
        }
        guard !status.isEmpty, status.count <= 40 else { throw ParseError(location: location, message: "has no status (Email Sent, Clicked Link, …)") }
        let flag = reported.lowercased()
        guard ["", "true", "false", "1", "0"].contains(flag) else {
            throw ParseError(location: location, message: "'reported' is '\(reported.prefix(20))', not true or false")
        }
        return Recipient(
            email: address, firstName: String(first.prefix(100)), lastName: String(last.prefix(100)), position: String(position.prefix(100)), status: status,
            sentAt: RFC3339.parse(sent) ?? Self.goDate(sent), reported: flag == "true" || flag == "1" || status == "Email Reported")
    }

    /// GoPhish writes times with fractional seconds and an offset (`2026-11-03T09:15:02.123456789+05:00`).
    static func goDate(_ text: String) -> Date? {
        guard let dot = text.firstIndex(of: ".") else { return nil }
        let rest = text[text.index(after: dot)...]
        let zone = rest.drop { $0.isNumber }
        return RFC3339.parse(String(text[..<dot]) + String(zone))
    }
}
