import Foundation
import QilaCore
import QilaIngest

/// What the rule list is asked for: text, level, state and lint, a sort, and where a page starts.
struct RuleQuery: Sendable, Equatable {
    enum State: String, CaseIterable, Sendable { case enabled, disabled }
    enum Lint: String, CaseIterable, Sendable { case clean, findings }
    /// Whether a mapping in use reads the rule's log source.
    enum Feed: String, CaseIterable, Sendable { case fed, unfed }
    enum Sort: String, CaseIterable, Sendable {
        case title, level, alerts, uploaded
        var label: String {
            switch self {
            case .title: "Title"
            case .level: "Level (most severe first)"
            case .alerts: "Alerts (most first)"
            case .uploaded: "Uploaded (newest first)"
            }
        }
    }

    static let levels = ["critical", "high", "medium", "low", "informational"]
    static let pageSize = 100

    var text = ""
    var level: String?
    var state: State?
    var lint: Lint?
    var feed: Feed?
    var sort = Sort.title
    /// The id of the last rule on the previous page: the page starts after it.
    var after: String?

    init(text: String = "", level: String? = nil, state: State? = nil, lint: Lint? = nil, sort: Sort = .title, after: String? = nil) {
        self.text = text
        self.level = level
        self.state = state
        self.lint = lint
        self.sort = sort
        self.after = after
    }

    init(parameters: (String) -> String?) {
        text = parameters("q")?.trimmingCharacters(in: .whitespaces) ?? ""
        level = parameters("level").flatMap { Self.levels.contains($0) || $0 == "none" ? $0 : nil }
        state = parameters("state").flatMap(State.init(rawValue:))
        lint = parameters("lint").flatMap(Lint.init(rawValue:))
        feed = parameters("feed").flatMap(Feed.init(rawValue:))
        sort = parameters("sort").flatMap(Sort.init(rawValue:)) ?? .title
        after = parameters("after").flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }
    }

    /// The query string for this query (without the cursor unless `after` is given).
    func string(after cursor: String? = nil) -> String {
        var items: [(String, String)] = []
        if !text.isEmpty { items.append(("q", text)) }
        if let level { items.append(("level", level)) }
        if let state { items.append(("state", state.rawValue)) }
        if let lint { items.append(("lint", lint.rawValue)) }
        if let feed { items.append(("feed", feed.rawValue)) }
        if sort != .title { items.append(("sort", sort.rawValue)) }
        if let cursor { items.append(("after", cursor)) }
        return ListPaging.query(items)
    }

    func matches(_ rule: DetectionRule, feeds: [String: RuleFeed]) -> Bool {
        if let feed {
            guard let known = feeds[rule.id], known.isFed == (feed == .fed) else { return false }
        }
        if let level, (rule.level ?? "none") != level { return false }
        if let state, rule.enabled != (state == .enabled) { return false }
        if let lint, rule.problems.isEmpty != (lint == .clean) { return false }
        guard !text.isEmpty else { return true }
        let wanted = text.lowercased()
        return rule.title.lowercased().contains(wanted) || rule.file.lowercased().contains(wanted) || rule.id.lowercased() == wanted
    }

    /// Every matching rule in this query's order; ties broken by id, so the order is total and a
    /// cursor (a rule's id) always names the same place.
    func ordered(_ rules: [DetectionRule], alerts: [String: Int], feeds: [String: RuleFeed]) -> [DetectionRule] {
        func rank(_ level: String?) -> Int { level.flatMap { Self.levels.firstIndex(of: $0) } ?? Self.levels.count }
        return rules.filter { matches($0, feeds: feeds) }.sorted { a, b in
            switch sort {
            case .title: if a.title != b.title { return a.title.localizedCaseInsensitiveCompare(b.title) == .orderedAscending }
            case .level: if rank(a.level) != rank(b.level) { return rank(a.level) < rank(b.level) }
            case .alerts: if alerts[a.id, default: 0] != alerts[b.id, default: 0] { return alerts[a.id, default: 0] > alerts[b.id, default: 0] }
            case .uploaded: if a.uploadedAt != b.uploadedAt { return a.uploadedAt > b.uploadedAt }
            }
            return a.id < b.id
        }
    }

    /// One page of `ordered`, starting after the cursor, and the cursor of the next page if any.
    func page(of ordered: [DetectionRule]) -> (rows: ArraySlice<DetectionRule>, next: String?, start: Int) {
        ListPaging.page(of: ordered, after: after, size: Self.pageSize) { $0.id }
    }
}

/// The rules page: counts and a chart by level, filters, one page of the list with a box per
/// rule for bulk enable and disable, and the upload form.
struct RulesView: Sendable {
    struct Row: Sendable {
        var id, title, level, file, problems, href: String
        /// Which mappings in use feed it, or which log source none reads.
        var feed: String
        var enabled, hasProblems, fed: Bool
        var alerts: Int
    }

    let total, enabledCount, problemCount, matching, fedCount: Int
    /// The mappings in use, for the summary.
    let mappingsText: String
    let feedChart: String
    let rangeText: String
    let chart: String
    let rows: [Row]
    let hasRows: Bool
    let q: String
    let levels, states, lints, feedChoices, sorts: [Choice]
    let nextHref: String?
    let firstHref: String?
    let csvHref: String
    /// This very page, for the bulk form to come back to.
    let backHref: String
    let canChange: Bool
    let message: String?
    let bulkError: String?
    let uploadForm: FormView?

    static let uploadFormName = "rule.upload"
    static let bulkFormName = "rule.bulk"

    static func uploadFields(state: FormState?) -> [FieldView] {
        [
            FieldView("file", label: "File name", hint: "For example proc_creation_win_example.yml.", state: state, id: "rule-file"),
            FieldView("yaml", label: "Rule", control: .textarea(rows: 14), hint: "A Sigma rule in YAML.", required: true, state: state, id: "rule-yaml"),
        ]
    }

    init(
        rules: [DetectionRule], alerts: [String: Int], feeds: [String: RuleFeed], mappings: [String], query: RuleQuery, canChange: Bool, chart: String,
        message: String?, kept: FormState?
    ) {
        total = rules.count
        enabledCount = rules.filter(\.enabled).count
        problemCount = rules.filter { !$0.problems.isEmpty }.count
        fedCount = feeds.values.filter(\.isFed).count
        mappingsText = mappings.joined(separator: ", ")
        feedChart = Self.feedChart(feeds)
        let ordered = query.ordered(rules, alerts: alerts, feeds: feeds)
        matching = ordered.count
        let page = query.page(of: ordered)
        rangeText = page.rows.isEmpty ? "No rule matches." : "Rules \(page.start + 1)–\(page.start + page.rows.count) of \(ordered.count) matching."
        rows = page.rows.map { rule in
            Row(
                id: rule.id, title: rule.title, level: rule.level ?? "-", file: rule.file, problems: rule.problems.joined(separator: "; "),
                href: "/rules/" + (rule.id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? rule.id),
                feed: feeds[rule.id]?.description ?? (rule.enabled ? "" : "not running"),
                enabled: rule.enabled, hasProblems: !rule.problems.isEmpty, fed: feeds[rule.id]?.isFed ?? false, alerts: alerts[rule.id, default: 0])
        }
        hasRows = !rows.isEmpty
        self.chart = chart
        q = query.text
        levels = (RuleQuery.levels + ["none"]).map { Choice(value: $0, title: $0, selected: query.level == $0) }
        states = RuleQuery.State.allCases.map { Choice(value: $0.rawValue, title: $0.rawValue, selected: query.state == $0) }
        lints = [Choice(value: "clean", title: "no findings", selected: query.lint == .clean), Choice(value: "findings", title: "with findings", selected: query.lint == .findings)]
        feedChoices = [
            Choice(value: "fed", title: "fed by a mapping in use", selected: query.feed == .fed),
            Choice(value: "unfed", title: "no mapping in use reads its log source", selected: query.feed == .unfed),
        ]
        sorts = RuleQuery.Sort.allCases.map { Choice(value: $0.rawValue, title: $0.label, selected: query.sort == $0) }
        nextHref = page.next.map { "/rules?" + query.string(after: $0) }
        firstHref = query.after == nil ? nil : "/rules?" + query.string()
        let filter = query.string()
        csvHref = "/rules.csv" + (filter.isEmpty ? "" : "?" + filter)
        let here = query.string(after: query.after)
        backHref = "/rules" + (here.isEmpty ? "" : "?" + here)
        self.canChange = canChange
        let bulk = kept?.form == Self.bulkFormName ? kept : nil
        bulkError = bulk?.errors.values.first ?? bulk?.summary
        self.message = message ?? (kept?.form == "rule.bulk.done" ? kept?.value("message") : nil)
        let upload = kept?.form == Self.uploadFormName ? kept : nil
        uploadForm =
            canChange ? FormView(action: "/rules", submit: "Lint and store", fields: Self.uploadFields(state: upload), state: upload, id: "upload-rule") : nil
    }

    /// Enabled rules by their log source's product (category where none), fed or not, the ten
    /// largest products.
    static func feedChart(_ feeds: [String: RuleFeed]) -> String {
        var counts: [String: (fed: Int, unfed: Int)] = [:]
        for feed in feeds.values {
            let product = feed.logSource.product ?? feed.logSource.category ?? "other"
            if feed.isFed { counts[product, default: (0, 0)].fed += 1 } else { counts[product, default: (0, 0)].unfed += 1 }
        }
        let top = counts.sorted { ($0.value.fed + $0.value.unfed, $1.key) > ($1.value.fed + $1.value.unfed, $0.key) }.prefix(10)
        guard !top.isEmpty else { return "" }
        return BarChart(
            bars: top.map { BarChart.Bar(label: $0.key, values: ["fed": $0.value.fed, "no mapping in use": $0.value.unfed]) },
            series: ["fed", "no mapping in use"], title: "Enabled rules by product: can a sensor in use feed them?", height: 160
        ).svg()
    }
}

/// One rule: its YAML, lint findings, alerts per day over the last 30 days, and the switch.
struct RuleView: Sendable {
    let id, title, level, file, yaml, uploaded: String
    let enabled: Bool
    let problems: [String]
    let hasProblems: Bool
    let alerts: Int
    let chart: String
    let alertsHref: String
    let canChange: Bool
    let message: String?
}
