/// How the web server listens.
public struct WebConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8443
    /// HTTPS with the internal CA's server certificate; off only behind a TLS-terminating proxy
    /// or in tests.
    public var tls: Bool = true
    /// Names the server certificate is issued for, besides the loopback addresses.
    public var hostnames: [String] = ["localhost"]
    /// The address people reach Qila at (`publicURL`, e.g. `https://qila.authority.example`), for
    /// links sent to them; when none is set, links use a configured name or the listening address.
    public var publicURL: String?
    /// Seconds from accepting a connection (TLS handshake included) to a whole request head, and
    /// again for each following request on a kept-alive connection: slow headers are cut off.
    public var requestHeadTimeout: Double = 10
    /// Seconds a connection may stay idle between requests.
    public var idleTimeout: Double = 75
    /// Open connections per source address (0: no limit).
    public var connectionsPerSource = 64
    /// Where other nodes reach this one (`host:port`, `node.address`); nil: the listening address,
    /// unless that is every interface (then other nodes cannot reach it by that name).
    public var nodeAddress: String?
    /// How often this node's row in the node registry is refreshed.
    public var heartbeatInterval: Duration = .seconds(5)
    /// Interval at which the audit log's tree head is signed, when it has grown.
    public var treeHeadInterval: Duration = .seconds(10)
    /// Measures the cost of access control by turning the policy check off. Never in production.
    /// The IANA time zone pages show times in for anyone who has not chosen their own.
    public var displayTimeZone = "Asia/Karachi"
    public var benchmarkUnsafeSkipPolicy = false
    /// Measures the cost of auditing reads by not recording cross-tenant reads. Never in production.
    public var benchmarkUnsafeSkipReadAudit = false

    /// Complaints one address may file in an hour on the public pages (`public.complaintsPerHour`).
    public var complaintsPerHour = 5
    /// Suspicious-message reports one address may send in an hour (`public.reportsPerHour`).
    public var reportsPerHour = 10
    /// A public form sent back sooner than this after it was shown is refused as a script's
    /// (`public.formMinimumSeconds`).
    public var formMinimumSeconds = 3

    public init() {}
}
