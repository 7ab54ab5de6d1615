import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import QilaCore
import QilaIngest
import QilaStore
import QilaTestSupport
import Testing

@Suite("Syslog over TLS (RFC 5425) with client certificates")
struct SyslogTLSTests {
    /// Sends `bytes` over TLS to the listener, presenting the certificate if given, and closes with close_notify.
    static func send(port: Int, certificatePEM: String?, keyPEM: String?, caFile: String, _ bytes: [UInt8]) async throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(caFile)
        configuration.certificateVerification = .noHostnameVerification
        if let certificatePEM, let keyPEM {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
        }
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        try await channel.close().get()
    }

    @Test("The account's certificate names the sensor and its organisation; another account's, a revoked one or none is not read")
    func clientCertificates() async throws {
        let world = try await TenantWorld.make(on: .sqlite)
        let authority = try world.installation.certificateAuthority()
        try authority.ensureServerCertificate(hostnames: ["localhost"])
        let sets = DetectionSets()
        try await world.installation.store.saveRules([RuleImport.rule(yaml: IntakeHarness.whoami, file: "whoami.yml", by: nil, sets: sets, mappings: [])])
        let intake = try await IntakeHarness.start(
            .sqlite,
            settings: { settings in
                settings.syslogTLS = ["127.0.0.1:0"]
                settings.tlsCertificate = authority.serverCertificateFile
                settings.tlsKey = authority.serverKeyFile
                settings.tlsClientCA = authority.caFile
            }, world: world)
        let account = world.users["a-sensor"]!
        let sensor = try await intake.sensor("dc-tls", of: world.operatorA, transport: .syslogTLS, addresses: [], account: account.id)
        let issued = try await world.installation.issueCertificate(for: account, validityDays: 30, by: nil)
        let port = intake.ports["syslog-tls"]!
        func events(_ count: Int, host: String) -> [UInt8] {
            (0..<count).flatMap { index in
                LoopbackSocket.framed(IntakePipelineTests.process(#"C:\\Windows\\System32\\whoami.exe"#, host: host, pid: index))
            }
        }

        try await Self.send(port: port, certificatePEM: issued.certificatePEM, keyPEM: issued.keyPEM, caFile: authority.caFile, events(5, host: "tls-01"))
        try await intake.settle(events: 5)
        let alerts = try await intake.store.alerts(AlertFilter(organisations: [world.operatorA.id]))
        #expect(alerts.count == 1)
        #expect(alerts.first?.sensor == sensor.id && alerts.first?.host == "tls-01" && alerts.first?.count == 5)

        // A valid certificate of an account without a TLS sensor: counted as unknown, not read.
        let stranger = try await world.installation.issueCertificate(for: world.users["b-reporter"]!, validityDays: 30, by: nil)
        try? await Self.send(port: port, certificatePEM: stranger.certificatePEM, keyPEM: stranger.keyPEM, caFile: authority.caFile, events(3, host: "tls-02"))
        // No certificate at all: the server ends the handshake (under TLS 1.3 the client may learn it only after writing).
        try? await Self.send(port: port, certificatePEM: nil, keyPEM: nil, caFile: authority.caFile, events(3, host: "tls-03"))
        // The sensor's own certificate once revoked.
        try await intake.store.revokeCertificate(serial: issued.serial, at: Date(), reason: "key lost")
        try? await Self.send(port: port, certificatePEM: issued.certificatePEM, keyPEM: issued.keyPEM, caFile: authority.caFile, events(3, host: "tls-04"))
        let deadline = ContinuousClock.now + .seconds(10)
        while (intake.runtime.directory.unknownSources["syslog-tls:127.0.0.1"] ?? 0) < 2 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await intake.settle(events: 5)
        #expect(intake.runtime.directory.unknownSources["syslog-tls:127.0.0.1"] == 2)
        #expect(intake.runtime.pipeline.processedEvents == 5)
        let after = try await intake.store.alerts(AlertFilter())
        #expect(after.count == 1 && after.first?.count == 5)
        try await intake.stop()
    }
}
