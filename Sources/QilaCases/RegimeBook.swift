public import Foundation
public import QilaCore

/// The regimes in force: the shipped presets and those the authority defines as YAML files in a
/// folder. All are checked when Qila starts; one bad file stops the start with its name, line and
/// key, rather than leaving organisations to report under a half-read regime.
public struct RegimeBook: Sendable {
    public let regimes: [ReportingRegime]

    public init(regimes: [ReportingRegime]) {
        self.regimes = regimes
    }

    /// The presets, then each `*.yaml` of `folder` (if it exists); a file whose id matches a preset
    /// replaces it, so the authority can tighten a shipped regime.
    public static func load(folder: String?) throws(RegimeError) -> RegimeBook {
        var byID: [String: ReportingRegime] = [:]
        var order: [String] = []
        for regime in try RegimeParser.presets() {
            byID[regime.id] = regime
            order.append(regime.id)
        }
        if let folder, FileManager.default.fileExists(atPath: folder) {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            var seen: Set<String> = []
            for name in names {
                let path = (folder as NSString).appendingPathComponent(name)
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw RegimeError(message: "cannot be read as UTF-8 text", file: path) }
                let regime = try RegimeParser.parse(text, file: path)
                guard seen.insert(regime.id).inserted else {
                    throw RegimeError(message: "a second regime with id '\(regime.id)'", file: path, key: "id")
                }
                if byID[regime.id] == nil { order.append(regime.id) }
                byID[regime.id] = regime
            }
        }
        return RegimeBook(regimes: order.compactMap { byID[$0] })
    }

    public func regime(_ id: String) -> ReportingRegime? {
        regimes.first { $0.id == id }
    }

    /// The regime an organisation of `sector` reports under unless it chooses another: one that
    /// names the sector, else the national default.
    public func defaultRegime(for sector: SectorID) -> ReportingRegime? {
        regimes.first { !$0.personalData && !$0.publicIntake && $0.sectors.contains(sector.rawValue) }
            ?? regime("national") ?? regimes.first { !$0.personalData && !$0.publicIntake }
    }

    /// The regime added to a case that flags a personal-data breach.
    public var personalDataRegime: ReportingRegime? {
        regimes.first { $0.personalData }
    }

    /// Regimes a reporter may choose as the case's main one.
    public var primaryRegimes: [ReportingRegime] { regimes.filter { !$0.personalData && !$0.publicIntake } }
}
