import Foundation
import Testing

/// The web layer adapts desks to HTTP: it never writes an audit entry or SQL itself. The one
/// exception is the policy enforcement point, whose job is to record refusals and cross-tenant
/// reads as they are decided.
@Suite("Web layering")
struct LayeringTests {
    static let webSources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/QilaWeb")

    static func swiftFiles() throws -> [URL] {
        let enumerator = FileManager.default.enumerator(at: webSources, includingPropertiesForKeys: nil)
        return (enumerator?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "swift" }
    }

    @Test("no handler in QilaWeb writes an audit entry or SQL")
    func noAuditOrSQL() throws {
        let files = try Self.swiftFiles()
        #expect(files.count > 20, "found \(files.count) Swift files under \(Self.webSources.lastPathComponent)")
        let forbidden = ["audit.append(", "audit.recordChange(", ".database.", "SELECT ", "INSERT ", "UPDATE ", "DELETE FROM"]
        var found: [String] = []
        for file in files where file.lastPathComponent != "PolicyEnforcementPoint.swift" {
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                for pattern in forbidden where line.contains(pattern) {
                    found.append("\(file.lastPathComponent):\(number + 1): \(pattern)")
                }
            }
        }
        #expect(found.isEmpty, "audit entries and SQL belong in the desks: \(found)")
    }

    @Test("every page is rendered from a typed view: no [String: Any] in pages, views or rendering")
    func typedViews() throws {
        var found: [String] = []
        for file in try Self.swiftFiles() where ["Pages", "Views", "Rendering", "Forms"].contains(file.deletingLastPathComponent().lastPathComponent) {
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() where line.contains("[String: Any]") {
                found.append("\(file.lastPathComponent):\(number + 1)")
            }
        }
        #expect(found.isEmpty, "untyped page values: \(found)")
    }
}
