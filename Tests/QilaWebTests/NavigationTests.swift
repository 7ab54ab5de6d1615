import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import QilaTestSupport
import Testing

@testable import QilaWeb

@Suite("Navigation: declared by the page collections, shown per policy")
struct NavigationTests {
    @Test("every link the navigation shows a person opens for them; pages they may not open are not linked")
    func linksOpen() async throws {
        let harness = try await WebHarness.make()
        let entries = WebPages.navigation
        #expect(entries.map(\.order) == entries.map(\.order).sorted())
        #expect(Set(entries.map(\.path)).count == entries.count)
        try await harness.run { client in
            for name in RouteMatrixTests.people.sorted() {
                let (cookie, _, _) = try await client.signInWithSecondFactor(name, in: harness.world)
                let home = String(buffer: try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]).body)
                let navigation = try #require(home.range(of: #"<nav aria-label="Main">"#).map { String(home[$0.upperBound...]) })
                let shown = entries.filter { navigation.prefix(2_000).contains(#"href="\#($0.path)""#) }
                #expect(shown.contains { $0.path == "/" }, "\(name)")
                // The pages the navigation links, as this person sees them.
                var linkedPages = ""
                for entry in shown { linkedPages += String(buffer: try await client.execute(uri: entry.path, method: .get, headers: [.cookie: cookie]).body) }
                for entry in entries {
                    let answer = try await client.execute(uri: entry.path, method: .get, headers: [.cookie: cookie])
                    let status = answer.status
                    let linked = shown.contains { $0.path == entry.path }
                    if ProcessInfo.processInfo.environment["QILA_NAV_PRINT"] != nil { print("NAV \(name) \(entry.path) linked=\(linked) \(status)") }
                    if linked {
                        #expect(status == .ok, "\(name) is shown \(entry.path) but gets \(status)")
                    } else if status == .ok {
                        // Not in the bar, but reached from a page that is (figures from the case list).
                        #expect(linkedPages.contains(#"href="\#(entry.path)""#), "\(name) may open \(entry.path) but nothing links it")
                    } else if status == .seeOther {
                        // Sent on to a page the bar does link (warrants → warrant oversight).
                        let location = answer.headers[.location] ?? ""
                        #expect(shown.contains { $0.path == location }, "\(name): \(entry.path) sends to \(location), which is not linked")
                    } else {
                        #expect(status == .forbidden || status == .notFound, "\(name) is not shown \(entry.path) and gets \(status)")
                    }
                }
            }
        }
    }
}
