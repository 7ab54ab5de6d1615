import Foundation
import QilaCore
import Testing

@testable import QilaIngest

@Suite("Intake journal: durable entries, torn ends cut, replay from a position")
struct JournalTests {
    static func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("qila-journal-\(UUID().uuidString)").path
    }

    static func entry(_ sensor: Sensor.ID, _ records: [String], at time: Int64 = 1_700_000_000_000) -> JournalEntry {
        var entry = JournalEntry(sensor: sensor, receivedAt: time, kind: .syslog)
        for record in records { entry.append(Array(record.utf8)) }
        return entry
    }

    @Test("CRC-32C gives the published check value and the RFC 3720 test vectors")
    func checksum() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map(UInt8.init)) == 0x46DD_794E)
        // The instruction and the tables agree on random inputs of every length up to 300.
        var generator = SystemRandomNumberGenerator()
        for length in 0..<300 {
            let random = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let tables = random.withUnsafeBytes { CRC32C.softwareChecksum($0) }
            #expect(random.withUnsafeBytes { CRC32C.checksum($0) } == tables)
        }
        // Continuing over a split gives the same as the whole.
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = CRC32C.checksum(bytes)
        for cut in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = bytes[..<cut].withUnsafeBytes { CRC32C.checksum($0) }
            #expect(bytes[cut...].withUnsafeBytes { CRC32C.checksum($0, continuing: first) } == whole)
        }
    }

    @Test("Entries come back as written after a restart, across segments, from any entry's position")
    func roundTrip() async throws {
        let path = Self.directory()
        let sensor = Sensor.ID()
        var written: [IntakeJournal.Stored] = []
        do {
            let journal = try IntakeJournal(directory: path, segmentSize: 4096)
            journal.start { _ in }
            for index in 0..<60 {
                written.append(try await journal.append(Self.entry(sensor, (0..<(index % 5 + 1)).map { "message \(index).\($0) " + String(repeating: "x", count: index * 3) })))
            }
            journal.stop()
            #expect(journal.syncCount > 0)
        }
        let reopened = try IntakeJournal(directory: path, segmentSize: 4096)
        #expect(reopened.endPosition == written.last!.end)
        var read: [IntakeJournal.Stored] = []
        try reopened.read(from: 0) { read.append($0) }
        #expect(read.count == 60)
        #expect(read.map(\.start) == written.map(\.start))
        #expect(read.map { $0.entry.payload } == written.map { $0.entry.payload })
        #expect(read[7].entry.count == 3 && String(decoding: read[7].entry.record(2), as: UTF8.self).hasPrefix("message 7.2 "))
        // Several segments were written; reading from an entry's start gives it and what follows.
        let segments = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".journal") }
        #expect(segments.count > 3)
        var tail: [Int64] = []
        try reopened.read(from: written[41].start) { tail.append($0.start) }
        #expect(tail == written[41...].map(\.start))
        // Trimming removes whole segments before the position only.
        reopened.trim(before: written[41].start)
        tail = []
        try reopened.read(from: written[41].start) { tail.append($0.start) }
        #expect(tail == written[41...].map(\.start))
        #expect(try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".journal") }.count < segments.count)
    }

    @Test("A torn entry at the end (a write cut short) is cut off at start; whole entries stay")
    func tornTail() async throws {
        let path = Self.directory()
        let sensor = Sensor.ID()
        let journal = try IntakeJournal(directory: path)
        journal.start { _ in }
        let first = try await journal.append(Self.entry(sensor, ["one", "two"]))
        let second = try await journal.append(Self.entry(sensor, ["three"]))
        journal.stop()
        let segment = path + "/" + (try FileManager.default.contentsOfDirectory(atPath: path).first { $0.hasSuffix(".journal") }!)
        // Every cut inside the second entry leaves exactly the first.
        for cut in stride(from: Int(second.start) + 1, to: Int(second.end), by: 3) {
            let data = try Data(contentsOf: URL(fileURLWithPath: segment))
            let copy = Self.directory()
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
            try data.prefix(cut).write(to: URL(fileURLWithPath: copy + "/00000000000000000000.journal"))
            let reopened = try IntakeJournal(directory: copy)
            #expect(reopened.endPosition == first.end)
            var starts: [Int64] = []
            try reopened.read(from: 0) { starts.append($0.start) }
            #expect(starts == [first.start])
        }
        // A flipped byte in a whole entry is found by its checksum, and named.
        var data = try Data(contentsOf: URL(fileURLWithPath: segment))
        data[Int(first.start) + 40] ^= 0x55
        let damaged = Self.directory()
        try FileManager.default.createDirectory(atPath: damaged, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: damaged + "/00000000000000000000.journal"))
        // The damaged entry is skipped (and reported) because a whole entry follows it; the second is kept.
        let reopened = try IntakeJournal(directory: damaged)
        #expect(reopened.endPosition == second.end)
        var starts: [Int64] = []
        try reopened.read(from: 0) { starts.append($0.start) }
        #expect(starts == [second.start])
        #expect(reopened.damaged.count == 1 && reopened.damaged[0].contains("checksum"))
    }

    @Test("Random bytes as a journal segment never crash the reader")
    func garbage() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let path = Self.directory()
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let count = Int.random(in: 0..<600, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.count > 8, Bool.random(using: &generator) {
                // A plausible length prefix, so decoding goes past the first check.
                bytes[0] = UInt8(min(count - 8, 200))
                bytes[1] = 0; bytes[2] = 0; bytes[3] = 0
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path + "/00000000000000000000.journal"))
            let journal = try IntakeJournal(directory: path)
            var entries = 0
            try journal.read(from: 0) { _ in entries += 1 }
            #expect(journal.endPosition <= Int64(count))
        }
    }
}
