public import Foundation
import QilaCore

/// Qila's access policy, declared in one place for auditors to read.
///
/// A request is allowed only if some rule below grants the subject's effective role the action
/// on the resource's kind within the rule's reach, *and* every global condition holds
/// (TLP clearance, token scope, fresh MFA for sensitive actions, account enabled). Anything
/// not granted is denied.
public enum Policy {
    /// How far a grant reaches.
    public enum Reach: String, Sendable, CaseIterable {
        /// Everything of that kind, in every organisation.
        case all
        /// Resources of organisations in the subject's regulated sector.
        case sector
        /// Resources of the organisations the subject audits, and of their own.
        case audited
        /// Resources of the subject's own organisation.
        case ownOrganisation = "own organisation"
        /// The subject's own account and what belongs to it.
        case `self`
        /// Resources that belong to no organisation (sectors, the audit log).
        case installation
        /// What belongs to the whole installation's community: no owner, sector or audience.
        case national
        /// Resources of the subject's own sector that belong to no one organisation.
        case ownSector = "own sector"
        /// Resources shared with a named set of organisations that includes the subject's.
        case audience
    }

    public struct Rule: Sendable, Hashable {
        public var role: Role?
        public var kind: Resource.Kind
        public var actions: Set<Action>
        public var reach: Reach
        public var note: String
    }

    /// Rules that apply to every authenticated subject, whatever their role.
    static let everyone: [Rule] = [
        Rule(role: nil, kind: .sector, actions: [.read], reach: .installation, note: "the list of sectors is public to members"),
        Rule(role: nil, kind: .organisation, actions: [.read], reach: .ownOrganisation, note: "one's own organisation"),
        Rule(role: nil, kind: .user, actions: [.read], reach: .self, note: "one's own profile"),
        Rule(role: nil, kind: .credentials, actions: [.read, .update], reach: .self, note: "own password, TOTP, sessions"),
        Rule(role: nil, kind: .apiToken, actions: [.read, .create, .delete], reach: .self, note: "own API tokens"),
        Rule(role: nil, kind: .framework, actions: [.read], reach: .installation, note: "assessment frameworks are public to members"),
        Rule(role: nil, kind: .trainingCourse, actions: [.read], reach: .installation, note: "the authority's courses are open to every organisation"),
        Rule(role: nil, kind: .trainingCourse, actions: [.read], reach: .ownOrganisation, note: "and its own courses"),
    ]

    /// The grants of each role.
    public static let rules: [Rule] =
        everyone + [
            // The authority
            Rule(role: .authorityAdmin, kind: .sector, actions: [.create, .update], reach: .installation, note: "sectors are configurable"),
            Rule(role: .authorityAdmin, kind: .organisation, actions: [.read, .create, .update], reach: .all, note: "registers tenants"),
            Rule(role: .authorityAdmin, kind: .user, actions: [.read, .create, .update, .administer], reach: .all, note: "manages every account"),
            Rule(role: .authorityAdmin, kind: .credentials, actions: [.administer], reach: .all, note: "resets MFA"),
            Rule(role: .authorityAdmin, kind: .apiToken, actions: [.read, .create, .delete], reach: .all, note: "service account tokens"),
            Rule(role: .authorityAdmin, kind: .certificate, actions: [.read, .create, .administer], reach: .all, note: "internal CA"),
            Rule(role: .authorityAdmin, kind: .auditLog, actions: [.read], reach: .installation, note: "audit log browser"),
            Rule(role: .authorityAdmin, kind: .system, actions: [.read, .administer], reach: .installation, note: "operations"),
            Rule(role: .authorityAnalyst, kind: .organisation, actions: [.read], reach: .all, note: "national view"),
            Rule(role: .authorityAnalyst, kind: .user, actions: [.read], reach: .all, note: "contacts across tenants"),
            Rule(role: .oversightViewer, kind: .organisation, actions: [.read], reach: .all, note: "oversight of the programme"),
            Rule(role: .oversightViewer, kind: .auditLog, actions: [.read], reach: .installation, note: "audits the operators"),
            Rule(role: .investigator, kind: .organisation, actions: [.read], reach: .all, note: "to name the provider in a warrant"),
            // Sector regulators
            Rule(role: .sectorRegulator, kind: .organisation, actions: [.read], reach: .sector, note: "their sector"),
            Rule(role: .sectorRegulator, kind: .user, actions: [.read], reach: .sector, note: "contacts in their sector"),
            // Organisations
            Rule(role: .organisationAdmin, kind: .organisation, actions: [.update], reach: .ownOrganisation, note: "name and registration"),
            Rule(role: .organisationAdmin, kind: .user, actions: [.read, .create, .update, .administer], reach: .ownOrganisation, note: "own staff and sensors"),
            Rule(role: .organisationAdmin, kind: .credentials, actions: [.administer], reach: .ownOrganisation, note: "resets staff MFA"),
            Rule(role: .organisationAdmin, kind: .apiToken, actions: [.read, .create, .delete], reach: .ownOrganisation, note: "service account tokens"),
            Rule(role: .organisationAdmin, kind: .certificate, actions: [.read, .create, .administer], reach: .ownOrganisation, note: "sensor certificates"),
            Rule(role: .organisationReporter, kind: .user, actions: [.read], reach: .ownOrganisation, note: "colleagues"),
            // Auditors
            Rule(role: .auditor, kind: .organisation, actions: [.read], reach: .audited, note: "the organisations they audit"),
            // Traffic-data retention (PECA 2016): exporters, retention, warrants
            Rule(role: .authorityAdmin, kind: .flowSource, actions: [.read, .create, .delete], reach: .all, note: "registers exporters for providers"),
            Rule(role: .organisationAdmin, kind: .flowSource, actions: [.read, .create, .delete], reach: .ownOrganisation, note: "own exporters and RADIUS clients"),
            Rule(role: .legalOfficer, kind: .flowSource, actions: [.read], reach: .ownOrganisation, note: "what the provider retains"),
            Rule(role: .authorityAdmin, kind: .flowRetention, actions: [.read, .update], reach: .all, note: "sets the retention period the authority notifies"),
            Rule(role: .organisationAdmin, kind: .flowRetention, actions: [.read], reach: .ownOrganisation, note: "its own retention period"),
            Rule(role: .legalOfficer, kind: .flowRetention, actions: [.read], reach: .ownOrganisation, note: "its own retention period"),
            Rule(role: .investigator, kind: .warrant, actions: [.read, .create, .update], reach: .self, note: "records own warrants, withdraws them"),
            Rule(role: .legalOfficer, kind: .warrant, actions: [.read, .update], reach: .ownOrganisation, note: "approves or rejects warrants addressed to the provider"),
            Rule(role: .investigator, kind: .trafficData, actions: [.read], reach: .self, note: "queries under own approved warrants only"),
            Rule(role: .oversightViewer, kind: .warrantStatistics, actions: [.read], reach: .installation, note: "counts and timing, never identifiers or records"),
            Rule(role: .authorityAdmin, kind: .warrantStatistics, actions: [.read], reach: .installation, note: "counts and timing"),
            // Incident reporting and case management
            Rule(role: .organisationReporter, kind: .incident, actions: [.read, .create, .update], reach: .ownOrganisation, note: "reports its incidents in stages"),
            Rule(role: .organisationAdmin, kind: .incident, actions: [.read, .create, .update], reach: .ownOrganisation, note: "reports its incidents in stages"),
            Rule(role: .auditor, kind: .incident, actions: [.read, .create, .update], reach: .audited, note: "reports on behalf of the organisations it audits"),
            Rule(role: .authorityAnalyst, kind: .incident, actions: [.read, .create, .update], reach: .all, note: "national queue; opens cases from intelligence"),
            Rule(role: .authorityAnalyst, kind: .incidentInternal, actions: [.read, .create, .update], reach: .all, note: "triage, internal comments, tasks, links"),
            Rule(role: .sectorRegulator, kind: .incident, actions: [.read], reach: .sector, note: "cases of their sector"),
            Rule(role: .sectorRegulator, kind: .incidentInternal, actions: [.read, .create], reach: .sector, note: "internal comments on their sector's cases"),
            Rule(role: .authorityAnalyst, kind: .complianceNotice, actions: [.read, .create], reach: .all, note: "issues show-cause notices"),
            Rule(role: .sectorRegulator, kind: .complianceNotice, actions: [.read], reach: .sector, note: "notices to their sector"),
            Rule(role: .organisationAdmin, kind: .complianceNotice, actions: [.read], reach: .ownOrganisation, note: "notices addressed to it"),
            Rule(role: .organisationReporter, kind: .complianceNotice, actions: [.read], reach: .ownOrganisation, note: "notices addressed to it"),
            Rule(role: .authorityAnalyst, kind: .incidentStatistics, actions: [.read], reach: .installation, note: "national figures"),
            Rule(role: .oversightViewer, kind: .incidentStatistics, actions: [.read], reach: .installation, note: "counts and compliance, never case content"),
            Rule(role: .authorityAdmin, kind: .incidentStatistics, actions: [.read], reach: .installation, note: "national figures"),
            Rule(role: .authorityAdmin, kind: .webhook, actions: [.read, .create, .delete], reach: .all, note: "where notifications go"),
            Rule(role: .organisationAdmin, kind: .webhook, actions: [.read, .create, .delete], reach: .ownOrganisation, note: "its own systems"),
            // Telemetry intake and alerts
            Rule(role: .authorityAdmin, kind: .sensor, actions: [.read, .create, .update], reach: .all, note: "registers sensors for organisations"),
            Rule(role: .authorityAnalyst, kind: .sensor, actions: [.read], reach: .all, note: "sensor health across the nation"),
            Rule(role: .sectorRegulator, kind: .sensor, actions: [.read], reach: .sector, note: "sensor health in their sector"),
            Rule(role: .organisationAdmin, kind: .sensor, actions: [.read, .create, .update], reach: .ownOrganisation, note: "its own sensors"),
            Rule(role: .organisationAdmin, kind: .telemetry, actions: [.create], reach: .ownOrganisation, note: "sends its events (ingest-scoped tokens)"),
            Rule(role: .organisationReporter, kind: .telemetry, actions: [.create], reach: .ownOrganisation, note: "sensor service accounts send events"),
            Rule(role: .authorityAnalyst, kind: .alert, actions: [.read, .update], reach: .all, note: "national alert queue, triage, campaigns"),
            Rule(role: .sectorRegulator, kind: .alert, actions: [.read], reach: .sector, note: "alerts of their sector"),
            Rule(role: .organisationAdmin, kind: .alert, actions: [.read, .update], reach: .ownOrganisation, note: "triages its own alerts"),
            Rule(role: .organisationReporter, kind: .alert, actions: [.read], reach: .ownOrganisation, note: "its own alerts"),
            Rule(role: .authorityAnalyst, kind: .detectionRule, actions: [.read, .create, .update], reach: .installation, note: "uploads, enables and disables rules"),
            Rule(role: .authorityAdmin, kind: .detectionRule, actions: [.read, .create, .update], reach: .installation, note: "rule management"),
            // Assessments: frameworks, campaigns, answers, audits and their aggregates
            Rule(role: .authorityAdmin, kind: .framework, actions: [.create, .update], reach: .installation, note: "adds and revises frameworks"),
            Rule(role: .authorityAnalyst, kind: .framework, actions: [.create, .update], reach: .installation, note: "adds and revises frameworks"),
            Rule(role: .authorityAdmin, kind: .assessmentCampaign, actions: [.read, .create, .update], reach: .all, note: "runs national and sector campaigns"),
            Rule(role: .authorityAnalyst, kind: .assessmentCampaign, actions: [.read, .create, .update], reach: .all, note: "runs national and sector campaigns"),
            Rule(role: .sectorRegulator, kind: .assessmentCampaign, actions: [.read, .create, .update], reach: .ownSector, note: "runs its sector's campaigns"),
            Rule(role: .authorityAdmin, kind: .assessment, actions: [.read], reach: .all, note: "every organisation's answers"),
            Rule(role: .authorityAnalyst, kind: .assessment, actions: [.read], reach: .all, note: "every organisation's answers"),
            Rule(role: .sectorRegulator, kind: .assessment, actions: [.read], reach: .sector, note: "its sector's answers"),
            Rule(role: .organisationAdmin, kind: .assessment, actions: [.read, .update], reach: .ownOrganisation, note: "answers, assigns and submits"),
            Rule(role: .organisationReporter, kind: .assessment, actions: [.read, .update], reach: .ownOrganisation, note: "answers and submits"),
            Rule(role: .auditor, kind: .assessment, actions: [.read], reach: .audited, note: "reads what it audits"),
            Rule(role: .auditor, kind: .assessmentAudit, actions: [.create], reach: .audited, note: "agrees or disputes answer by answer"),
            Rule(role: .authorityAdmin, kind: .assessmentStatistics, actions: [.read], reach: .all, note: "national and sector distributions"),
            Rule(role: .authorityAnalyst, kind: .assessmentStatistics, actions: [.read], reach: .all, note: "national and sector distributions"),
            Rule(role: .sectorRegulator, kind: .assessmentStatistics, actions: [.read], reach: .ownSector, note: "its sector's distributions"),
            Rule(role: .organisationAdmin, kind: .assessmentStatistics, actions: [.read], reach: .ownSector, note: "its sector's distribution, beside its own score"),
            Rule(role: .organisationReporter, kind: .assessmentStatistics, actions: [.read], reach: .ownSector, note: "its sector's distribution, beside its own score"),
            Rule(role: .oversightViewer, kind: .assessmentStatistics, actions: [.read], reach: .all, note: "aggregates only, never an organisation's answers"),
            // The public portal: what the authority publishes, complaints' contacts, reports from the public
            Rule(role: .authorityAdmin, kind: .publicContent, actions: [.read, .create, .update, .administer], reach: .all, note: "publishes guides and alerts, chooses the statistics, designates the complaints agency"),
            Rule(role: .authorityAnalyst, kind: .publicContent, actions: [.read, .create, .update], reach: .all, note: "publishes guides and alerts"),
            Rule(role: .organisationAdmin, kind: .complaintContact, actions: [.read], reach: .ownOrganisation, note: "the agency's staff reach the complainants of its complaints"),
            Rule(role: .organisationReporter, kind: .complaintContact, actions: [.read], reach: .ownOrganisation, note: "the agency's staff reach the complainants of its complaints"),
            Rule(role: .investigator, kind: .complaintContact, actions: [.read], reach: .ownOrganisation, note: "the agency's investigators reach the complainants"),
            Rule(role: .authorityAnalyst, kind: .suspiciousReport, actions: [.read, .update], reach: .all, note: "confirms or dismisses what the public reports"),
            Rule(role: .authorityAdmin, kind: .suspiciousReport, actions: [.read], reach: .all, note: "sees the queue"),
            // Training and awareness
            Rule(role: .authorityAdmin, kind: .trainingCourse, actions: [.read, .create, .update], reach: .all, note: "national courses and exercises"),
            Rule(role: .authorityAnalyst, kind: .trainingCourse, actions: [.read, .create, .update], reach: .all, note: "national courses and exercises"),
            Rule(role: .organisationAdmin, kind: .trainingCourse, actions: [.read, .create, .update], reach: .ownOrganisation, note: "its own courses"),
            Rule(role: .organisationAdmin, kind: .trainingRecord, actions: [.read, .create, .update], reach: .ownOrganisation, note: "enrols, records completions, imports phishing simulations"),
            Rule(role: .organisationReporter, kind: .trainingRecord, actions: [.read], reach: .ownOrganisation, note: "its organisation's coverage"),
            Rule(role: .auditor, kind: .trainingRecord, actions: [.read], reach: .audited, note: "the records of what it audits"),
            Rule(role: .authorityAdmin, kind: .trainingRecord, actions: [.read], reach: .all, note: "every organisation's records"),
            Rule(role: .authorityAnalyst, kind: .trainingRecord, actions: [.read], reach: .all, note: "every organisation's records"),
            Rule(role: .sectorRegulator, kind: .trainingRecord, actions: [.read], reach: .sector, note: "its sector's organisations"),
            Rule(role: .authorityAdmin, kind: .trainingStatistics, actions: [.read], reach: .all, note: "coverage and phishing rates by sector"),
            Rule(role: .authorityAnalyst, kind: .trainingStatistics, actions: [.read], reach: .all, note: "coverage and phishing rates by sector"),
            Rule(role: .oversightViewer, kind: .trainingStatistics, actions: [.read], reach: .all, note: "aggregates only"),
            Rule(role: .sectorRegulator, kind: .trainingStatistics, actions: [.read], reach: .ownSector, note: "its sector's figures"),
            Rule(role: .organisationAdmin, kind: .trainingStatistics, actions: [.read], reach: .ownSector, note: "its sector's figures beside its own"),
            // Advisories and vulnerabilities
            Rule(role: .authorityAdmin, kind: .kevCatalogue, actions: [.read, .update], reach: .installation, note: "imports CISA's catalogue, adds, removes, sets due dates"),
            Rule(role: .authorityAnalyst, kind: .kevCatalogue, actions: [.read, .update], reach: .installation, note: "imports CISA's catalogue, adds, removes, sets due dates"),
            Rule(role: .sectorRegulator, kind: .kevCatalogue, actions: [.read], reach: .installation, note: "the catalogue and its due dates"),
            Rule(role: .organisationAdmin, kind: .kevCatalogue, actions: [.read], reach: .installation, note: "the catalogue and its due dates"),
            Rule(role: .organisationReporter, kind: .kevCatalogue, actions: [.read], reach: .installation, note: "the catalogue and its due dates"),
            Rule(role: .auditor, kind: .kevCatalogue, actions: [.read], reach: .installation, note: "the catalogue and its due dates"),
            Rule(role: .oversightViewer, kind: .kevCatalogue, actions: [.read], reach: .installation, note: "the catalogue"),
            // Inventories and exposure: the organisation keeps its own; the authority, its regulator and its auditors read.
            Rule(role: .organisationAdmin, kind: .inventory, actions: [.read, .create, .update], reach: .ownOrganisation, note: "imports inventories, states each exposure's status"),
            Rule(role: .organisationReporter, kind: .inventory, actions: [.read, .create, .update], reach: .ownOrganisation, note: "imports inventories, states each exposure's status"),
            Rule(role: .auditor, kind: .inventory, actions: [.read], reach: .audited, note: "the exposure of the organisations it audits"),
            Rule(role: .sectorRegulator, kind: .inventory, actions: [.read], reach: .sector, note: "its sector's exposure and time to remediate"),
            Rule(role: .authorityAdmin, kind: .inventory, actions: [.read], reach: .all, note: "every organisation's exposure"),
            Rule(role: .authorityAnalyst, kind: .inventory, actions: [.read], reach: .all, note: "every organisation's exposure"),
            // Advisories: the authority writes, a second person reviews and publishes; readers get what the marking allows.
            Rule(role: .authorityAdmin, kind: .advisoryDraft, actions: [.read, .create, .update], reach: .installation, note: "writes, reviews and publishes advisories"),
            Rule(role: .authorityAnalyst, kind: .advisoryDraft, actions: [.read, .create, .update], reach: .installation, note: "writes, reviews and publishes advisories"),
            Rule(role: .authorityAdmin, kind: .advisory, actions: [.read], reach: .installation, note: "every published advisory"),
            Rule(role: .authorityAnalyst, kind: .advisory, actions: [.read], reach: .installation, note: "every published advisory"),
            Rule(role: .sectorRegulator, kind: .advisory, actions: [.read], reach: .national, note: "CLEAR and GREEN advisories"),
            Rule(role: .sectorRegulator, kind: .advisory, actions: [.read], reach: .audience, note: "AMBER and RED advisories addressed to its organisation"),
            Rule(role: .organisationAdmin, kind: .advisory, actions: [.read], reach: .national, note: "CLEAR and GREEN advisories"),
            Rule(role: .organisationAdmin, kind: .advisory, actions: [.read], reach: .audience, note: "AMBER and RED advisories addressed to its organisation"),
            Rule(role: .organisationReporter, kind: .advisory, actions: [.read], reach: .national, note: "CLEAR and GREEN advisories"),
            Rule(role: .organisationReporter, kind: .advisory, actions: [.read], reach: .audience, note: "AMBER and RED advisories addressed to its organisation"),
            Rule(role: .auditor, kind: .advisory, actions: [.read], reach: .national, note: "CLEAR and GREEN advisories"),
            Rule(role: .auditor, kind: .advisory, actions: [.read], reach: .audience, note: "AMBER and RED advisories addressed to its organisation"),
            Rule(role: .legalOfficer, kind: .advisory, actions: [.read], reach: .national, note: "CLEAR and GREEN advisories"),
            Rule(role: .legalOfficer, kind: .advisory, actions: [.read], reach: .audience, note: "AMBER and RED advisories addressed to its organisation"),
            Rule(role: .investigator, kind: .advisory, actions: [.read], reach: .national, note: "CLEAR and GREEN advisories"),
            Rule(role: .investigator, kind: .advisory, actions: [.read], reach: .audience, note: "AMBER and RED advisories addressed to its organisation"),
            Rule(role: .oversightViewer, kind: .advisory, actions: [.read], reach: .national, note: "CLEAR and GREEN advisories"),
            Rule(role: .oversightViewer, kind: .advisory, actions: [.read], reach: .audience, note: "AMBER and RED advisories addressed to its organisation"),
            // Coordinated vulnerability disclosure: the authority coordinates; each vendor reaches only its cases and answers for itself.
            Rule(role: .authorityAdmin, kind: .vulnerabilityReport, actions: [.read, .update], reach: .all, note: "researchers' reports; reading a contact is audited"),
            Rule(role: .authorityAnalyst, kind: .vulnerabilityReport, actions: [.read, .update], reach: .all, note: "researchers' reports; reading a contact is audited"),
            Rule(role: .authorityAdmin, kind: .disclosureCase, actions: [.read, .create, .update], reach: .installation, note: "opens cases, invites vendors, sets embargoes"),
            Rule(role: .authorityAnalyst, kind: .disclosureCase, actions: [.read, .create, .update], reach: .installation, note: "opens cases, invites vendors, sets embargoes"),
            Rule(role: .authorityAdmin, kind: .disclosureVendor, actions: [.update], reach: .all, note: "records a vendor's answer on its behalf"),
            Rule(role: .authorityAnalyst, kind: .disclosureVendor, actions: [.update], reach: .all, note: "records a vendor's answer on its behalf"),
            Rule(role: .vendorContact, kind: .disclosureCase, actions: [.read], reach: .audience, note: "only the cases its organisation is a vendor in"),
            Rule(role: .vendorContact, kind: .disclosureVendor, actions: [.update], reach: .ownOrganisation, note: "its own status, statement and agreement to the embargo"),
            // Threat-intelligence sharing: who reaches a collection; each object's TLP decides the rest
            Rule(role: .authorityAnalyst, kind: .intelCollection, actions: [.read, .create, .update], reach: .all, note: "the national hub: every collection"),
            Rule(role: .authorityAdmin, kind: .intelCollection, actions: [.read, .create, .update, .administer], reach: .all, note: "creates collections, trust groups and peers"),
            Rule(role: .sectorRegulator, kind: .intelCollection, actions: [.read, .create], reach: .ownSector, note: "their sector's collection"),
            Rule(role: .sectorRegulator, kind: .intelCollection, actions: [.read, .create], reach: .sector, note: "collections of their sector's organisations"),
            Rule(role: .sectorRegulator, kind: .intelCollection, actions: [.read, .create], reach: .national, note: "the national collection"),
            Rule(role: .organisationAdmin, kind: .intelCollection, actions: [.read, .create, .update], reach: .ownOrganisation, note: "its own collection"),
            Rule(role: .organisationReporter, kind: .intelCollection, actions: [.read, .create], reach: .ownOrganisation, note: "its own collection (a sensor or TIP account)"),
            Rule(role: .organisationAdmin, kind: .intelCollection, actions: [.read, .create], reach: .ownSector, note: "its sector's collection"),
            Rule(role: .organisationReporter, kind: .intelCollection, actions: [.read, .create], reach: .ownSector, note: "its sector's collection"),
            Rule(role: .organisationAdmin, kind: .intelCollection, actions: [.read, .create], reach: .national, note: "the national collection"),
            Rule(role: .organisationReporter, kind: .intelCollection, actions: [.read, .create], reach: .national, note: "the national collection"),
            Rule(role: .organisationAdmin, kind: .intelCollection, actions: [.read, .create], reach: .audience, note: "collections shared with its organisation"),
            Rule(role: .organisationReporter, kind: .intelCollection, actions: [.read, .create], reach: .audience, note: "collections shared with its organisation"),
        ]

    /// How long a second factor counts as fresh for sensitive actions.
    public static let mfaFreshness: Duration = .seconds(15 * 60)

    /// When the subject's second factor (TOTP in this session, the client certificate of this
    /// request, or the one an admin token was issued under) was checked, if within `mfaFreshness`.
    public static func freshSecondFactor(of subject: Subject, at now: Date) -> Date? {
        guard let checked = subject.mfaAt, now.timeIntervalSince(checked) <= Double(mfaFreshness.components.seconds) else { return nil }
        return checked
    }

    /// Renders the policy as a Markdown table, for `qila policy` and the documentation.
    public static func markdown() -> String {
        var lines = [
            "| role | resource | actions | reach | why |",
            "|---|---|---|---|---|",
        ]
        for rule in rules {
            let actions = Action.allCases.filter(rule.actions.contains).map(\.rawValue).joined(separator: ", ")
            lines.append(
                "| \(rule.role?.rawValue ?? "everyone") | \(rule.kind.rawValue) | \(actions) | \(rule.reach.rawValue) | \(rule.note) |"
            )
        }
        lines.append("")
        lines.append("Global conditions, checked for every request after a grant is found:")
        lines.append("- the account is enabled;")
        lines.append("- TLP: the resource's marking is no more restricted than the subject's clearance;")
        lines.append("- API tokens: the token carries the scope of the action (read; write for create, update, delete; admin for administer);")
        lines.append("- administer: a second factor or a client certificate was checked within the last 15 minutes; an admin token counts only within 15 minutes of the check under which it was issued, and issuing one needs that check;")
        lines.append("- traffic data, and any change to a warrant: a second factor (TOTP) was checked within the last 15 minutes; API tokens and certificates alone never suffice.")
        return lines.joined(separator: "\n")
    }
}
