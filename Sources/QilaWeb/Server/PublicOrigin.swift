import Foundation

/// The origin that links sent to people (set-up links) are built from, and the origin a browser's
/// form must come from. Never from a request's Host header alone: a request with
/// `Host: evil.example` must not produce a set-up link to evil.example.
struct PublicOrigin: Sendable, Equatable {
    /// `https` or `http`.
    let scheme: String
    let host: String
    let port: Int

    /// The configured public URL (`publicURL`), else the address the server listens on.
    static func configured(_ configuration: WebConfiguration) -> PublicOrigin {
        if let text = configuration.publicURL, let origin = PublicOrigin(text) { return origin }
        return PublicOrigin(scheme: configuration.tls ? "https" : "http", host: configuration.host.lowercased(), port: configuration.port)
    }

    init(scheme: String, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// Reads `scheme://host[:port][/...]`; nil for anything else (no scheme, not http(s), no host).
    init?(_ text: String) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        self.init(scheme: scheme, host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: components.port ?? (scheme == "https" ? 443 : 80))
    }

    /// The origin a browser names in `Origin` for a page fetched from `authority` (a Host header).
    init?(scheme: String, authority: String) {
        self.init("\(scheme)://\(authority)")
    }

    var text: String {
        let name = host.contains(":") ? "[\(host)]" : host
        let defaultPort = (scheme == "https" && port == 443) || (scheme == "http" && port == 80)
        return defaultPort ? "\(scheme)://\(name)" : "\(scheme)://\(name):\(port)"
    }

    /// A link to `path` to send to someone. With no public URL configured, the request's own host
    /// is used only when it is one of the names the server is configured for (its certificate's
    /// names, the listening address) on the listening port; otherwise the listening address.
    static func link(_ path: String, configuration: WebConfiguration, requestAuthority: String?) -> String {
        let listening = configured(configuration)
        if configuration.publicURL != nil { return listening.text + path }
        if let authority = requestAuthority, let asked = PublicOrigin(scheme: listening.scheme, authority: authority),
            asked.port == listening.port,
            (configuration.hostnames.map { $0.lowercased() } + [listening.host, "127.0.0.1", "::1"]).contains(asked.host)
        {
            return asked.text + path
        }
        return listening.text + path
    }
}

extension WebConfiguration {
    /// Whether `text` can serve as `publicURL`: an http or https address with a host.
    public static func isUsablePublicURL(_ text: String) -> Bool { PublicOrigin(text) != nil }
}
