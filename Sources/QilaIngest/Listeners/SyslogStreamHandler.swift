import Crypto
import Foundation
import NIOCore
import NIOSSL
import NIOTLS
import QilaCore

/// One syslog TCP or TLS connection: frames the stream (RFC 6587), collects each read's
/// messages into one journal entry, and reads no faster than the journal takes them: reading
/// stops while more than `highWater` bytes of this connection await the journal, and pauses
/// when the sensor is over its rate (nothing is dropped; the sender's TCP window fills instead).
final class SyslogStreamHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    let ingress: IntakeIngress
    let tls: Bool
    private var sensor: Sensor?
    private var framer: SyslogFramer
    private var entry: JournalEntry?
    private var outstanding = 0
    private var pausedForJournal = false
    private var pausedForRate = false
    private var identifying = false
    private var context: ChannelHandlerContext?
    static let highWater = 32 << 20

    init(ingress: IntakeIngress, tls: Bool) {
        self.ingress = ingress
        self.tls = tls
        framer = SyslogFramer(maximum: ingress.maximumMessage)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelActive(context: ChannelHandlerContext) {
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        if !tls {
            guard let sensor = ingress.directory.sensor(address: address) else {
                ingress.directory.unknownSource("syslog-tcp:\(address)")
                context.close(promise: nil)
                return
            }
            self.sensor = sensor
        }
        context.fireChannelActive()
    }

    /// The sender closed: what was read and held back for the rate is still journalled, at the
    /// rate (the handler lives on in its scheduled flushes until it is all written).
    func channelInactive(context: ChannelHandlerContext) {
        flush(context: nil, loop: context.eventLoop)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            identify(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Finds the sensor whose account holds the client certificate presented.
    private func identify(context: ChannelHandlerContext) {
        identifying = true
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        let ingress = self.ingress
        let loop = context.eventLoop
        let channel = context.channel
        channel.nioSSL_peerCertificate().whenComplete { result in
            let der = (try? result.get())?.flatMap { try? $0.toDERBytes() }
            Task {
                var found: Sensor?
                if let der {
                    let fingerprint = SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
                    found = await ingress.sensor(certificateFingerprint: fingerprint)
                }
                loop.execute {
                    self.identifying = false
                    guard let found else {
                        ingress.directory.unknownSource("syslog-tls:\(address)")
                        channel.close(promise: nil)
                        return
                    }
                    self.sensor = found
                    // Also when the sender has closed meanwhile: what it sent is journalled.
                    self.flush(context: self.context, loop: loop)
                }
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { framer.append($0) }
        let now = ingress.clock.now.milliseconds
        while let frame = framer.nextLocated() {
            switch frame {
            case .message(let range):
                if entry == nil { entry = JournalEntry(sensor: sensor?.id ?? Sensor.ID(), receivedAt: now, kind: .syslog, capacity: 256 << 10) }
                framer.bytes.withUnsafeBufferPointer { entry!.append(UnsafeBufferPointer(rebasing: $0[range])) }
            case .refused(let reason):
                if let sensor { ingress.directory.refused(sensor.id, reason.hasPrefix("message") ? "oversized" : "malformed-framing", detail: reason) }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context, loop: context.eventLoop)
        context.fireChannelReadComplete()
    }

    /// Journals what the allowance grants; `context` is nil once the connection is closed.
    private func flush(context: ChannelHandlerContext?, loop: any EventLoop) {
        guard let sensor, var pending = entry, !pending.isEmpty, !pausedForRate else { return }
        entry = nil
        pending.sensor = sensor.id
        let (granted, wait) = ingress.directory.take(sensor, upTo: pending.count)
        if granted < pending.count {
            if granted == 0 && wait == 0 { return }  // over the daily quota: refused and counted
            // Over the rate: journal what is allowed, keep the rest here and stop reading until
            // the allowance has grown (the sender's TCP window fills meanwhile; nothing is lost).
            let (now, later) = pending.split(at: granted)
            entry = later
            pending = now
            pause(context: context, loop: loop, forRate: wait)
            if pending.isEmpty { return }
        }
        let size = pending.payload.count
        outstanding += size
        if outstanding > Self.highWater && !pausedForJournal, let context {
            pausedForJournal = true
            updateReading(context: context)
        }
        ingress.journal.append(pending) { result in
            loop.execute {
                self.outstanding -= size
                if case .failure(let failure) = result {
                    self.ingress.directory.refused(sensor.id, "journal-failure", count: Int64(pending.count), detail: failure.description)
                    self.context?.close(promise: nil)
                    return
                }
                if self.pausedForJournal && self.outstanding < Self.highWater / 4, let context = self.context {
                    self.pausedForJournal = false
                    self.updateReading(context: context)
                }
            }
        }
    }

    private func pause(context: ChannelHandlerContext?, loop: any EventLoop, forRate seconds: Double) {
        guard !pausedForRate else { return }
        pausedForRate = true
        if let context { updateReading(context: context) }
        loop.scheduleTask(in: .milliseconds(Int64(max(1, seconds * 1000)))) {
            self.pausedForRate = false
            self.flush(context: self.context, loop: loop)
            if !self.pausedForRate, let context = self.context { self.updateReading(context: context) }
        }
    }

    private func updateReading(context: ChannelHandlerContext) {
        let reading = !pausedForJournal && !pausedForRate
        context.channel.setOption(ChannelOptions.autoRead, value: reading).whenSuccess {
            if reading { context.read() }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let sensor { ingress.directory.refused(sensor.id, tls ? "tls-error" : "connection-error", detail: "\(error)") }
        context.close(promise: nil)
    }
}

/// Syslog datagrams (one message each, RFC 5426): collected per sensor over one read burst, then
/// journalled together. A datagram from an address no sensor has is counted and dropped; UDP
/// has no way to slow a sender, so over its rate a sensor's datagrams are refused and counted.
final class SyslogDatagramHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let ingress: IntakeIngress
    private var batches: [Sensor.ID: (Sensor, JournalEntry)] = [:]
    private var addresses: [String: Sensor?] = [:]
    private var directoryVersion = -1

    init(ingress: IntakeIngress) { self.ingress = ingress }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let address = envelope.remoteAddress.ipAddress ?? "unknown"
        if ingress.directory.version != directoryVersion {
            addresses.removeAll()
            directoryVersion = ingress.directory.version
        }
        let sensor: Sensor?
        if let cached = addresses[address] {
            sensor = cached
        } else {
            sensor = ingress.directory.sensor(address: address)
            if addresses.count < 65_536 { addresses[address] = sensor }
        }
        guard let sensor else {
            ingress.directory.unknownSource("syslog-udp:\(address)")
            return
        }
        guard envelope.data.readableBytes <= ingress.maximumMessage else {
            ingress.directory.refused(sensor.id, "oversized", detail: "a datagram of \(envelope.data.readableBytes) bytes is over the limit of \(ingress.maximumMessage)")
            return
        }
        var batch = batches[sensor.id] ?? (sensor, JournalEntry(sensor: sensor.id, receivedAt: ingress.clock.now.milliseconds, kind: .syslog))
        envelope.data.withUnsafeReadableBytes { batch.1.append($0) }
        batches[sensor.id] = batch
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        for (_, (sensor, entry)) in batches {
            if case .refuse = ingress.directory.admit(sensor, events: entry.count) { continue }
            ingress.journal.append(entry) { result in
                if case .failure(let failure) = result {
                    self.ingress.directory.refused(sensor.id, "journal-failure", count: Int64(entry.count), detail: failure.description)
                }
            }
        }
        batches.removeAll(keepingCapacity: true)
        context.fireChannelReadComplete()
    }
}
