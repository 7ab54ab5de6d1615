/// How long sessions last and when a person must prove who they are again.
public struct SessionLimits: Sendable {
    /// A session unused for this long ends (NIST SP 800-63B AAL2: 30 minutes to 1 hour).
    public var idle: Duration = .seconds(3600)
    /// A session ends this long after sign-in however it is used (AAL2: at most 12 hours).
    public var absolute: Duration = .seconds(12 * 3600)
    /// Sensitive actions need the password (and second factor) checked within this time.
    public var reauthentication: Duration = .seconds(15 * 60)

    public init() {}
}

extension Duration {
    var timeInterval: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
