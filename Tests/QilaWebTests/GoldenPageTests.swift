import Foundation
import QilaCore
import QilaDetect
import QilaIngest
import Testing

@testable import QilaWeb

/// Key pages rendered from fixed views and compared with the HTML kept in `Golden/`: a change to a
/// template or a view shows up here as a diff to read. `QILA_GOLDEN_UPDATE=1 swift test --filter
/// GoldenPageTests` writes the files anew after an intended change.
@Suite("Golden HTML of key pages")
struct GoldenPageTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let instant = Date(timeIntervalSince1970: 1_795_426_200)  // 2026-11-23T09:30:00Z

    static func render(_ template: String, _ view: any Sendable, signedIn: Bool = true) async throws -> String {
        let renderer = try await PageRenderer.load()
        var chrome = Chrome(title: "Golden", product: "Qila")
        chrome.signedIn = signedIn
        chrome.me = signedIn ? Chrome.Me(displayName: "Omar Farooq", organisation: "National Cybersecurity Authority") : nil
        chrome.csrf = signedIn ? "csrf-token" : ""
        chrome.nav = signedIn ? [Chrome.Link(title: "Overview", path: "/"), Chrome.Link(title: "Alerts", path: "/alerts")] : []
        return try #require(renderer.library.render(PageModel(view: view, chrome: chrome), withTemplate: template))
    }

    static func compare(_ name: String, _ html: String) throws {
        let file = folder.appendingPathComponent(name + ".html")
        if ProcessInfo.processInfo.environment["QILA_GOLDEN_UPDATE"] != nil {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try html.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let kept = try String(contentsOf: file, encoding: .utf8)
        guard kept != html else { return }
        let old = kept.split(separator: "\n", omittingEmptySubsequences: false), new = html.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(old, new).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(old.count, new.count)
        Issue.record(
            "\(name).html differs from line \(line + 1):\n  kept:     \(line < old.count ? String(old[line]) : "(end)")\n  rendered: \(line < new.count ? String(new[line]) : "(end)")")
    }

    @Test("sign-in, refused: the username kept, the reason said")
    func signIn() async throws {
        try Self.compare("sign-in-refused", try await Self.render("sign-in", SignInView(error: "The username or password is not right.", username: "omar"), signedIn: false))
    }

    @Test("the alert queue: filters, a page of alerts with boxes for bulk triage, paging and the CSV link")
    func alerts() async throws {
        let html = try await DisplayZone.$current.withValue(DisplayZone(identifier: "Asia/Karachi")!) {
            let organisation = Organisation(id: OrganisationID("7c9e6679-7425-40de-944b-e07fc1f90ae7")!, name: "Operator A", kind: .licensee, sector: "telecom")
            let alerts = (0..<3).map { index in
                SecurityAlert(
                    id: AlertID("00000000-0000-4000-8000-00000000000\(index)")!, organisation: organisation.id, sensor: nil, kind: .rule, rule: "whoami",
                    title: "Whoami run \(index)", severity: [.high, .medium, .critical][index], groupKey: "g\(index)", host: "opa-dc-0\(index)",
                    firstAt: Self.instant.addingTimeInterval(Double(index) * -60), lastAt: Self.instant, count: Int64(index + 1), fields: [])
            }
            let query = AlertQuery { ["severity": nil, "sort": "severity"][$0] ?? nil }
            let view = AlertsView(
                ordered: query.ordered(alerts), query: query, names: [organisation.id: organisation.name], readable: [organisation], canTriage: { _ in true },
                chart: "<svg class=\"chart\"></svg>", kept: nil, zone: DisplayZone.current)
            return try await Self.render("alerts", view)
        }
        try Self.compare("alerts", html)
    }

    @Test("the rules list, filtered to enabled rules, with lint findings and the log source no mapping in use reads")
    func rules() async throws {
        let rules = (0..<4).map { index in
            DetectionRule(
                id: "rule-\(index)", title: "Rule \(index)", level: ["high", "low", "critical", nil][index], file: "rule_\(index).yml", yaml: "title: Rule \(index)",
                enabled: index != 1, problems: index == 2 ? ["field CommandLine is not in windows-flat"] : [], uploadedAt: Self.instant, uploadedBy: nil)
        }
        let query = RuleQuery { ["state": "enabled"][$0] ?? nil }
        // Rule 3 reads Linux audit records, which no mapping in use (windows-flat) reads.
        let feeds = [
            "rule-0": RuleFeed(logSource: LogSource(category: "process_creation", product: "windows"), mappings: ["windows-flat"], shipped: []),
            "rule-2": RuleFeed(logSource: LogSource(category: "process_creation", product: "windows"), mappings: ["windows-flat"], shipped: []),
            "rule-3": RuleFeed(logSource: LogSource(product: "linux", service: "auditd"), mappings: [], shipped: ["linux-auditd"]),
        ]
        let view = RulesView(
            rules: rules, alerts: ["rule-2": 5], feeds: feeds, mappings: ["windows-flat"], query: query, canChange: true, chart: "", message: nil, kept: nil)
        try Self.compare("rules", try await Self.render("rules", view))
    }
}
