public import QilaAccess
public import QilaCases
public import QilaIntel

/// The public portal's desks, built once per node from the installation.
public struct PublicPortal: Sendable {
    public let publications: PublicationDesk
    public let complaints: ComplaintDesk
    public let suspicious: SuspiciousReportDesk
    public let vulnerabilities: VulnerabilityReportDesk
    public let passwords: PasswordRange
    public let text: PublicText

    public struct Settings: Sendable {
        public var complaintsPerHour = 5
        public var reportsPerHour = 10
        public var formMinimumSeconds = 3
        public init() {}
    }

    public init(installation: Installation, cases: CaseDesk, intel: IntelDesk, settings: Settings = Settings()) {
        let stamp = FormStamp(sealingKey: installation.secrets.sealingKey, minimumSeconds: settings.formMinimumSeconds)
        publications = PublicationDesk(store: installation.store, audit: installation.audit)
        complaints = ComplaintDesk(
            store: installation.store, audit: installation.audit, secrets: installation.secrets, cases: cases, directory: installation.directory,
            policy: installation.policy, stamp: stamp, limit: SubmissionLimit(perHour: settings.complaintsPerHour))
        suspicious = SuspiciousReportDesk(
            store: installation.store, audit: installation.audit, intel: intel, stamp: stamp, limit: SubmissionLimit(perHour: settings.reportsPerHour))
        vulnerabilities = VulnerabilityReportDesk(
            store: installation.store, audit: installation.audit, secrets: installation.secrets, stamp: stamp,
            limit: SubmissionLimit(perHour: settings.reportsPerHour))
        passwords = PasswordRange(blocklist: installation.authenticator.passwordPolicy.blocklist)
        text = .shipped
    }
}
