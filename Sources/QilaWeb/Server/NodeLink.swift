import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
public import QilaAccess
public import QilaRetention
import QilaStore

/// How a node calls the installation's other nodes: HTTPS with mutual TLS, presenting its node
/// certificate and accepting only servers whose certificates the installation's CA issued. Node
/// addresses are often bare IP addresses that server certificates do not name, so the name is not
/// checked; the CA is (every node the CA vouches for is equally trusted).
final class NodeLink: TrafficDataLink {
    let client: HTTPClient

    init(authority: CertificateAuthority) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(authority.caFile))
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(authority.nodeCertificateFile).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: authority.nodeKeyFile, format: .pem))
        tls.certificateVerification = .noHostnameVerification
        tls.minimumTLSVersion = .tlsv12
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        // A warrant query's part may read a year of flows before it answers.
        configuration.timeout = .init(connect: .seconds(3), read: .seconds(120))
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

    /// The largest answer a node accepts to a warrant query's part.
    static let maximumAnswer = 512 << 20

    /// Asks `node` to run its part of a warrant query on the traffic data it holds.
    func ask(_ node: NodeRecord, _ query: TrafficDataRequest) async throws -> TrafficDataAnswer {
        guard let address = node.address else { throw Failure(description: "it has no address other nodes reach") }
        var request = HTTPClientRequest(url: "https://\(address)/internal/v1/traffic/query")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(query)))
        let response = try await client.execute(request, timeout: .seconds(300))
        let body = try await response.body.collect(upTo: Self.maximumAnswer)
        guard response.status == .ok else {
            let detail = (try? JSONDecoder().decode(ProblemDetail.self, from: Data(buffer: body)))?.detail
            throw Failure(description: "answered \(response.status.code)" + (detail.map { ": \($0)" } ?? ""))
        }
        let answer: TrafficDataAnswer
        do {
            answer = try JSONDecoder().decode(TrafficDataAnswer.self, from: Data(buffer: body))
        } catch {
            throw Failure(description: "answered something that is not a traffic-data answer")
        }
        guard answer.node == node.id else { throw Failure(description: "another node (\(answer.node)) answers at its address") }
        return answer
    }

    /// The part of an RFC 9457 problem the caller repeats.
    struct ProblemDetail: Decodable {
        var detail: String?
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}

extension RetentionRuntime {
    /// Lets this process reach the traffic data the installation's other nodes hold, as `qila
    /// serve` does, for a warrant query from the command line on a node's data directory: over
    /// mutual TLS with this node's certificate. Returns what closes the link.
    public func connectToOtherNodes() throws -> @Sendable () async -> Void {
        let authority = try installation.certificateAuthority()
        try authority.ensureNodeCertificate(node: installation.node.id)
        let link = try NodeLink(authority: authority)
        nodes.connect(link)
        return { await link.shutdown() }
    }
}
