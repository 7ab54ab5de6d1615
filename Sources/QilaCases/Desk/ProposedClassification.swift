import Foundation
import Yams

/// A first guess at an incident's RSIT classification from the ATT&CK tactics a Sigma rule is
/// tagged with (`attack.credential_access`, …), for a case opened from that rule's alert. The
/// analyst confirms or changes it; the case's timeline says it was proposed.
///
/// The tactics are MITRE ATT&CK's (https://attack.mitre.org/tactics/enterprise/); the types are
/// the Reference Security Incident Taxonomy's (https://github.com/enisaeu/Reference-Security-Incident-Taxonomy-Task-Force).
/// Where a rule carries several tactics, the one furthest along an intrusion wins: an alert that
/// shows impact is classified by the impact, not by the discovery that preceded it.
public enum ProposedClassification {
    /// Tactic → RSIT `class/type`, latest stage of an intrusion first.
    static let byTactic: [(tactic: String, classification: String)] = [
        ("impact", "availability/sabotage"),
        ("exfiltration", "information-content-security/data-leak"),
        ("command_and_control", "malicious-code/c2-server"),
        ("collection", "information-content-security/unauthorised-information-access"),
        ("lateral_movement", "intrusions/system-compromise"),
        ("credential_access", "intrusions/privileged-account-compromise"),
        ("privilege_escalation", "intrusions/privileged-account-compromise"),
        ("persistence", "intrusions/system-compromise"),
        ("defense_evasion", "intrusions/system-compromise"),
        ("execution", "intrusions/system-compromise"),
        ("initial_access", "intrusion-attempts/exploit"),
        ("discovery", "information-gathering/scanner"),
        ("reconnaissance", "information-gathering/scanner"),
        ("resource_development", "information-gathering/scanner"),
    ]

    /// The proposal for these tags, if any tag names a tactic.
    public static func from(tags: [String]) -> String? {
        let tactics = Set(tags.map { $0.lowercased().replacingOccurrences(of: "-", with: "_") }.filter { $0.hasPrefix("attack.") }.map { String($0.dropFirst(7)) })
        return byTactic.first { tactics.contains($0.tactic) }?.classification
    }

    /// The `tags` of a Sigma rule's first document, or none when it cannot be read.
    public static func tags(ofRule yaml: String) -> [String] {
        guard let document = (try? Yams.load_all(yaml: yaml))?.first(where: { _ in true }) as? [String: Any] else { return [] }
        return (document["tags"] as? [Any])?.compactMap { $0 as? String } ?? []
    }
}
