public import Foundation

/// A source of telemetry registered to an organisation: a syslog sender, an HTTP client posting
/// JSON lines, or a CloudTrail feed. Every event it sends carries its organisation from intake on.
public struct Sensor: Sendable, Hashable, Codable, Identifiable {
    public typealias ID = Identifier<Sensor>

    /// How the sensor's events arrive.
    public enum Transport: String, Sendable, Codable, CaseIterable {
        /// Syslog over UDP or TCP, recognised by its source address.
        case syslog
        /// Syslog over TLS (RFC 5425), recognised by its client certificate.
        case syslogTLS = "syslog-tls"
        /// HTTP bulk intake, by API token or client certificate of the sensor's account.
        case http

        public var title: String {
            switch self {
            case .syslog: "Syslog (UDP/TCP)"
            case .syslogTLS: "Syslog over TLS"
            case .http: "HTTP JSON lines"
            }
        }
    }

    /// What one message or line holds.
    public enum Format: String, Sendable, Codable, CaseIterable {
        /// A JSON object per message (syslog message body or one HTTP line): NXLog, Winlogbeat, etc.
        case json
        /// Plain syslog text: the header fields and the message become the event.
        case text
        /// AWS CloudTrail: files with a `Records` array, or one record per line.
        case cloudtrail
        /// Linux audit records (auditd's log lines, or audisp's syslog plugin).
        case auditd
        /// ArcSight Common Event Format.
        case cef
        /// IBM QRadar's Log Event Extended Format.
        case leef
        /// `key=value` pairs (FortiGate and many firewalls).
        case keyValue = "key-value"
        /// Cisco ASA/FTD and IOS system messages (`%ASA-6-302013: ...`).
        case cisco
        /// BIND 9's query log.
        case bind
        /// Unbound's query and reply log.
        case unbound
        /// Web servers' common or combined access log (Apache, nginx).
        case accessLog = "access-log"
        /// Squid's native access log.
        case squid
        /// Windows event XML on one line: Sysmon for Linux's syslog messages, forwarded Windows events.
        case eventXML = "event-xml"

        public var title: String {
            switch self {
            case .json: "JSON objects"
            case .text: "Plain syslog text"
            case .cloudtrail: "AWS CloudTrail"
            case .auditd: "Linux audit (auditd)"
            case .cef: "CEF (Common Event Format)"
            case .leef: "LEEF (Log Event Extended Format)"
            case .keyValue: "key=value pairs"
            case .cisco: "Cisco ASA and IOS messages"
            case .bind: "BIND query log"
            case .unbound: "Unbound query log"
            case .accessLog: "Web access log (common or combined)"
            case .squid: "Squid access log (native)"
            case .eventXML: "Event XML (Sysmon for Linux, forwarded Windows events)"
            }
        }

        /// Read line by line as text (not JSON).
        public var isText: Bool { self != .json && self != .cloudtrail }

        /// Lines that usually carry a syslog header before the format's own text (a relay's file,
        /// or HTTP intake of a syslog server's output): the header is read when it is there.
        public var mayCarrySyslogHeader: Bool {
            switch self {
            case .text, .cef, .leef, .keyValue, .cisco, .eventXML: true
            default: false
            }
        }
    }

    public var id: ID
    public var organisation: OrganisationID
    public var name: String
    public var transport: Transport
    public var format: Format
    /// The field mapping rules are compiled for (a shipped mapping's name).
    public var mapping: String
    /// The service account whose token or certificate the sensor uses (HTTP and TLS).
    public var account: UserID?
    /// Source addresses or networks (CIDR) plain syslog may come from.
    public var addresses: [String]
    /// Events per second accepted before the sensor is slowed or refused; 0 for the default.
    public var rateLimit: Int
    public var enabled: Bool
    public var createdAt: Date
    /// Who registered it; nil when it was registered from the server's shell.
    public var createdBy: UserID?

    public init(
        id: ID = ID(), organisation: OrganisationID, name: String, transport: Transport, format: Format, mapping: String,
        account: UserID? = nil, addresses: [String] = [], rateLimit: Int = 0, enabled: Bool = true, createdAt: Date = Date(),
        createdBy: UserID?
    ) {
        self.id = id
        self.organisation = organisation
        self.name = name
        self.transport = transport
        self.format = format
        self.mapping = mapping
        self.account = account
        self.addresses = addresses
        self.rateLimit = rateLimit
        self.enabled = enabled
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

/// A sensor's health as intake has seen it: totals since registration and the last problem.
public struct SensorHealth: Sendable, Hashable, Codable {
    public var sensor: Sensor.ID
    public var lastSeen: Date?
    public var events: Int64
    public var bytes: Int64
    /// Refused messages by reason (`malformed-syslog`, `invalid-json`, `oversized`, `rate-limited`, ...).
    public var refused: [String: Int64]
    public var lastError: String?
    public var lastErrorAt: Date?

    public init(
        sensor: Sensor.ID, lastSeen: Date? = nil, events: Int64 = 0, bytes: Int64 = 0, refused: [String: Int64] = [:], lastError: String? = nil,
        lastErrorAt: Date? = nil
    ) {
        self.sensor = sensor
        self.lastSeen = lastSeen
        self.events = events
        self.bytes = bytes
        self.refused = refused
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
    }

    public var refusedTotal: Int64 { refused.values.reduce(0, +) }
}
