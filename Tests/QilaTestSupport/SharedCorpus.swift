import Foundation
import Testing

/// The materials beside the repository (`../shared`): SigmaHQ's rules and regression data, and
/// recorded telemetry. They are not in the repository, so a test that needs them asks here: when
/// a folder or file is absent it prints a note and checks nothing, except in CI, which must have
/// them (their absence is recorded as a failure there).
public enum SharedCorpus {
    /// `../shared`, beside the repository's folder.
    public static let root = URL(fileURLWithPath: #filePath)  // Tests/QilaTestSupport/SharedCorpus.swift
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared")

    /// `../shared/<relative>` when it exists; nil otherwise, after a note saying what goes
    /// unchecked (`unchecked`) and, in CI, a recorded failure.
    public static func url(_ relative: String, unchecked: String) -> URL? {
        let url = root.appendingPathComponent(relative)
        if FileManager.default.fileExists(atPath: url.path) { return url }
        print("note: ../shared/\(relative) is absent; \(unchecked)")
        if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("CI has no ../shared/\(relative)") }
        return nil
    }
}
