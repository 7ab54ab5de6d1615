import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOSSL

/// One answer of a TAXII server: the status, the headers (names in lower case) and the body.
public struct TaxiiAnswer: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// How the installation reads another TAXII server or MISP feed. The HTTP implementation is the
/// one a running node uses; tests of the paging logic give scripted answers.
public protocol TaxiiTransport: Sendable {
    /// GETs `url` accepting `accept`, with HTTP Basic credentials (none when `username` is
    /// empty) and, for HTTPS, trusting `trust` (a PEM certificate authority) or, when nil, the
    /// system's roots.
    func get(_ url: URL, accept: String, username: String, password: String, trust: String?) async throws -> TaxiiAnswer
}

/// TAXII over HTTP(S) with AsyncHTTPClient: 10 s to connect, 120 s to answer, 256 MiB a page.
public struct HTTPTaxiiTransport: TaxiiTransport {
    public static let maximumAnswer = 256 << 20
    /// One client for the process (a client must be shut down before it goes, and this one never goes).
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        configuration.redirectConfiguration = .disallow
        // A peer that refuses the connection fails the poll at once instead of being retried until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init() {}

    public func get(_ url: URL, accept: String, username: String, password: String, trust: String?) async throws -> TaxiiAnswer {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.headers.add(name: "Accept", value: accept)
        if !username.isEmpty {
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
        }
        if let trust, url.scheme == "https" {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(trust.utf8)))
            tls.minimumTLSVersion = .tlsv12
            request.tlsConfiguration = tls
        }
        let response = try await Self.client.execute(request, timeout: .seconds(150))
        let body = try await response.body.collect(upTo: Self.maximumAnswer)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return TaxiiAnswer(status: Int(response.status.code), headers: headers, body: Array(buffer: body))
    }
}

/// TAXII 2.1's media types.
public enum TaxiiMedia {
    public static let taxii = "application/taxii+json;version=2.1"
    public static let stix = "application/stix+json;version=2.1"
}
