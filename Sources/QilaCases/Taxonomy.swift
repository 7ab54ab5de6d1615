import Foundation

/// Classification of incidents by the Reference Security Incident Taxonomy (RSIT, ENISA and
/// TF-CSIRT), written as the machine tags MISP and CSIRTs exchange: `rsit:CLASS="TYPE"`.
public struct RSITClassification: Sendable, Hashable, CustomStringConvertible {
    public var incidentClass: String
    public var type: String

    public init?(incidentClass: String, type: String) {
        guard RSIT.classes.first(where: { $0.id == incidentClass })?.types.contains(where: { $0.id == type }) == true else { return nil }
        self.incidentClass = incidentClass
        self.type = type
    }

    /// Reads `CLASS/TYPE`, `CLASS:TYPE` or the machine tag `rsit:CLASS="TYPE"`.
    public init?(parsing text: String) {
        var body = text.trimmingCharacters(in: .whitespaces)
        if body.lowercased().hasPrefix("rsit:") { body = String(body.dropFirst(5)) }
        let parts = body.replacingOccurrences(of: "\"", with: "").split(whereSeparator: { $0 == "=" || $0 == "/" || $0 == ":" })
        guard parts.count == 2 else { return nil }
        self.init(incidentClass: String(parts[0]).lowercased(), type: String(parts[1]).lowercased())
    }

    public var machineTag: String { "rsit:\(incidentClass)=\"\(type)\"" }
    public var description: String { "\(incidentClass)/\(type)" }

    public var title: String {
        let entry = RSIT.classes.first { $0.id == incidentClass }
        return "\(entry?.title ?? incidentClass): \(entry?.types.first { $0.id == type }?.title ?? type)"
    }
}

public enum RSIT {
    public struct Entry: Sendable, Hashable {
        public var id: String
        public var title: String
    }

    public struct Class: Sendable, Hashable {
        public var id: String
        public var title: String
        public var types: [Entry]
    }

    /// The classes and types of RSIT version 1 as CSIRTs exchange them today.
    public static let classes: [Class] = [
        Class(id: "abusive-content", title: "Abusive content", types: [
            Entry(id: "spam", title: "Spam"), Entry(id: "harmful-speech", title: "Harmful speech"),
            Entry(id: "violence", title: "Child sexual, sexual or violent content"),
        ]),
        Class(id: "malicious-code", title: "Malicious code", types: [
            Entry(id: "infected-system", title: "Infected system"), Entry(id: "c2-server", title: "Command-and-control server"),
            Entry(id: "malware-distribution", title: "Malware distribution"), Entry(id: "malware-configuration", title: "Malware configuration"),
        ]),
        Class(id: "information-gathering", title: "Information gathering", types: [
            Entry(id: "scanner", title: "Scanning"), Entry(id: "sniffing", title: "Sniffing"), Entry(id: "social-engineering", title: "Social engineering"),
        ]),
        Class(id: "intrusion-attempts", title: "Intrusion attempts", types: [
            Entry(id: "ids-alert", title: "Exploitation of a known vulnerability"), Entry(id: "brute-force", title: "Login attempts"),
            Entry(id: "exploit", title: "New attack signature"),
        ]),
        Class(id: "intrusions", title: "Intrusions", types: [
            Entry(id: "privileged-account-compromise", title: "Privileged account compromise"),
            Entry(id: "unprivileged-account-compromise", title: "Unprivileged account compromise"),
            Entry(id: "application-compromise", title: "Application compromise"), Entry(id: "system-compromise", title: "System compromise"),
            Entry(id: "burglary", title: "Burglary"),
        ]),
        Class(id: "availability", title: "Availability", types: [
            Entry(id: "dos", title: "Denial of service"), Entry(id: "ddos", title: "Distributed denial of service"),
            Entry(id: "misconfiguration", title: "Misconfiguration"), Entry(id: "sabotage", title: "Sabotage"), Entry(id: "outage", title: "Outage"),
        ]),
        Class(id: "information-content-security", title: "Information content security", types: [
            Entry(id: "unauthorised-information-access", title: "Unauthorised access to information"),
            Entry(id: "unauthorised-information-modification", title: "Unauthorised modification of information"),
            Entry(id: "data-loss", title: "Data loss"), Entry(id: "data-leak", title: "Leak of confidential information"),
        ]),
        Class(id: "fraud", title: "Fraud", types: [
            Entry(id: "unauthorised-use-of-resources", title: "Unauthorised use of resources"), Entry(id: "copyright", title: "Copyright"),
            Entry(id: "masquerade", title: "Masquerade"), Entry(id: "phishing", title: "Phishing"),
        ]),
        Class(id: "vulnerable", title: "Vulnerable", types: [
            Entry(id: "weak-crypto", title: "Weak cryptography"), Entry(id: "ddos-amplifier", title: "DDoS amplifier"),
            Entry(id: "potentially-unwanted-accessible", title: "Potentially unwanted accessible service"),
            Entry(id: "information-disclosure", title: "Information disclosure"), Entry(id: "vulnerable-system", title: "Vulnerable system"),
        ]),
        Class(id: "other", title: "Other", types: [Entry(id: "other", title: "Other"), Entry(id: "undetermined", title: "Undetermined")]),
        Class(id: "test", title: "Test", types: [Entry(id: "test", title: "Test")]),
    ]
}

/// The Permissible Actions Protocol: what the recipient may do with the information (FIRST).
public enum PAP: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// Only passive, undetectable actions; nothing that could reveal the information was received.
    case red = "PAP:RED"
    /// Passive cross-checks that the adversary could notice (looking up an address in one's own logs).
    case amber = "PAP:AMBER"
    /// Active actions allowed (blocking at the firewall).
    case green = "PAP:GREEN"
    /// No restriction.
    case clear = "PAP:CLEAR"

    /// Reads the marking, with or without `PAP:`, in any case; the older `PAP:WHITE` is `PAP:CLEAR`.
    public init?(parsing text: String) {
        var upper = text.trimmingCharacters(in: .whitespaces).uppercased()
        if !upper.hasPrefix("PAP:") { upper = "PAP:" + upper }
        if upper == "PAP:WHITE" { self = .clear; return }
        guard let value = PAP(rawValue: upper) else { return nil }
        self = value
    }

    public static func < (lhs: PAP, rhs: PAP) -> Bool {
        allCases.firstIndex(of: lhs)! > allCases.firstIndex(of: rhs)!
    }
}

/// Offences of Pakistan's Prevention of Electronic Crimes Act 2016 (as enacted) that an incident
/// may constitute, by section: tags that tell investigators which provisions are in play.
public enum PECAOffence: Int, Sendable, Hashable, CaseIterable, Codable {
    case unauthorisedAccess = 3
    case unauthorisedCopying = 4
    case interference = 5
    case criticalInfrastructureAccess = 6
    case criticalInfrastructureCopying = 7
    case criticalInfrastructureInterference = 8
    case glorification = 9
    case cyberTerrorism = 10
    case hateSpeech = 11
    case terrorismRecruitment = 12
    case electronicForgery = 13
    case electronicFraud = 14
    case offenceDevices = 15
    case identityInformation = 16
    case simIssuance = 17
    case equipmentTampering = 18
    case interception = 19
    case dignity = 20
    case modesty = 21
    case childPornography = 22
    case maliciousCode = 23
    case cyberStalking = 24
    case spamming = 25
    case spoofing = 26

    public var section: String { "PECA 2016 s.\(rawValue)" }
    public var tag: String { "peca-2016:section-\(rawValue)" }

    public var title: String {
        switch self {
        case .unauthorisedAccess: "Unauthorised access to an information system or data"
        case .unauthorisedCopying: "Unauthorised copying or transmission of data"
        case .interference: "Interference with an information system or data"
        case .criticalInfrastructureAccess: "Unauthorised access to critical infrastructure systems or data"
        case .criticalInfrastructureCopying: "Unauthorised copying or transmission of critical infrastructure data"
        case .criticalInfrastructureInterference: "Interference with critical infrastructure systems or data"
        case .glorification: "Glorification of an offence"
        case .cyberTerrorism: "Cyber terrorism"
        case .hateSpeech: "Hate speech"
        case .terrorismRecruitment: "Recruitment, funding and planning of terrorism"
        case .electronicForgery: "Electronic forgery"
        case .electronicFraud: "Electronic fraud"
        case .offenceDevices: "Making, obtaining or supplying a device for use in an offence"
        case .identityInformation: "Unauthorised use of identity information"
        case .simIssuance: "Unauthorised issuance of SIM cards"
        case .equipmentTampering: "Tampering with communication equipment"
        case .interception: "Unauthorised interception"
        case .dignity: "Offences against the dignity of a natural person"
        case .modesty: "Offences against the modesty of a natural person or a minor"
        case .childPornography: "Child pornography"
        case .maliciousCode: "Malicious code"
        case .cyberStalking: "Cyber stalking"
        case .spamming: "Spamming"
        case .spoofing: "Spoofing"
        }
    }

    /// Reads `s.14`, `14`, `section-14` or the tag `peca-2016:section-14`.
    public init?(parsing text: String) {
        let digits = text.reversed().prefix { $0.isNumber }.reversed()
        guard let number = Int(String(digits)), let offence = PECAOffence(rawValue: number) else { return nil }
        self = offence
    }
}
