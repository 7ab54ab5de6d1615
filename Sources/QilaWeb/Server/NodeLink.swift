import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import QilaAccess

/// How a node calls the installation's other nodes: HTTPS with mutual TLS, presenting its node
/// certificate and accepting only servers whose certificates the installation's CA issued. Node
/// addresses are often bare IP addresses that server certificates do not name, so the name is not
/// checked; the CA is (every node the CA vouches for is equally trusted).
final class NodeLink: Sendable {
    let client: HTTPClient

    init(authority: CertificateAuthority) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(authority.caFile))
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(authority.nodeCertificateFile).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: authority.nodeKeyFile, format: .pem))
        tls.certificateVerification = .noHostnameVerification
        tls.minimumTLSVersion = .tlsv12
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(3), read: .seconds(10))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// What `/internal/v1/node` answers: who this node is, and whom it saw calling.
    struct Description: Codable, Sendable {
        var id: String
        var name: String
        var version: String
        var caller: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Asks the node at `address` (`host:port`) who it is; returns the identifier it answers with.
    func identify(_ address: String) async throws -> String {
        let request = HTTPClientRequest(url: "https://\(address)/internal/v1/node")
        let response = try await client.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 64 * 1024)
        guard response.status == .ok else { throw Failure(description: "answered \(response.status.code)") }
        guard let described = try? JSONDecoder().decode(Description.self, from: Data(buffer: body)) else {
            throw Failure(description: "answered something that is not a node's description")
        }
        return described.id
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}
