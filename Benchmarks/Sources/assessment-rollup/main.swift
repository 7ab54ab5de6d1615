// Times what the sector and national assessment pages compute: `assessment-rollup [--database
// postgres://…] [--organisations 1000] [--runs 7]` seeds 1,000 organisations in nine sectors,
// three yearly NIST CSF 2.0 campaigns (106 subcategories each, every organisation answering all of
// them with seeded random tiers, ), then times, per run, the
// national roll-up with its trend across the three cycles (as the authority and the oversight
// committee see it) and one sector's roll-up (as its regulator sees it). Prints each run and the
// medians. SQLite in a temporary directory unless a PostgreSQL URL is given.
import BenchmarkSupport
import Foundation
import QilaAccess
import QilaAssess
import QilaCases
import QilaCore
import QilaStore

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let organisationCount = Int(option("--organisations") ?? "") ?? 1000
let runs = Int(option("--runs") ?? "") ?? 7
let databaseURL = option("--database")

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qila-rollup-\(UUID().uuidString)").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }
var options = Installation.Options(dataDirectory: directory, database: databaseURL)
options.passwordIterations = 1_000
let installation = try await Installation.open(options)
let store = installation.store
let desk = CampaignDesk(store: store, audit: installation.audit, policy: installation.policy, attachments: AttachmentStore(store: store))
let gate = DecisionGate(policy: installation.policy, audit: installation.audit)

let sectors = Sector.defaults.map(\.id)
let authority = try await installation.directory.createOrganisation(.init(name: "National Cybersecurity Authority", kind: .authority, sector: "government"), by: nil)
let regulator = try await installation.directory.createOrganisation(.init(name: "Telecom Regulator", kind: .sectorRegulator, sector: "telecom"), by: nil)
let now = Date()
func subject(_ organisation: Organisation, _ roles: Set<Role>) -> Subject {
    Subject(
        user: User(organisation: organisation.id, username: "u-\(organisation.id)", displayName: "Bench", roles: roles), organisation: organisation,
        method: .passwordAndTOTP, authenticatedAt: now, mfaAt: now)
}
let analyst = subject(authority, [.authorityAnalyst])
let regulatorSubject = subject(regulator, [.sectorRegulator])

var start = DispatchTime.now().uptimeNanoseconds
var organisations: [Organisation] = []
for index in 0..<organisationCount {
    organisations.append(
        try await installation.directory.createOrganisation(
            .init(name: String(format: "Operator %04d", index), kind: .licensee, sector: sectors[index % sectors.count]), by: nil))
}
guard let csf = try FrameworkLibrary.shipped().framework("nist-csf-2.0") else { fatalError("NIST CSF 2.0 is not shipped") }
var random = Seeded(state: 2026)
var campaigns: [AssessmentCampaign] = []
for cycle in 0..<3 {
    let campaign = try await desk.launch(
        .init(
            title: "National CSF assessment \(2024 + cycle)", framework: csf.id, cycle: String(2024 + cycle), sector: nil,
            audience: .organisations(organisations.map(\.id)), opensAt: now.addingTimeInterval(-86_400), dueAt: now.addingTimeInterval(Double(cycle + 1) * 86_400 * 30)),
        by: analyst, gate: gate, now: now)
    campaigns.append(campaign)
    for organisation in organisations {
        let member = subject(organisation, [.organisationAdmin])
        // Each cycle a little better on average: tier 1–4, shifted up by the cycle.
        let answers = csf.answered.map { requirement in
            AssessmentAnswer(
                campaign: campaign.id, organisation: organisation.id, requirement: requirement.id, choice: String(min(4, Int.random(in: 1...3, using: &random) + (cycle > 0 && Bool.random(using: &random) ? 1 : 0))),
                answeredBy: member.user.id, answeredAt: now)
        }
        try await store.saveAnswers(answers)
        _ = try await desk.submit(campaign: campaign.id, organisation: organisation.id, by: member, gate: gate, now: now)
    }
    FileHandle.standardError.write(Data("seeded cycle \(2024 + cycle): \(organisationCount) organisations × \(csf.answered.count) answers\n".utf8))
}
print(String(format: "seeded in %.1f s (%@)", seconds(start), databaseURL == nil ? "SQLite" : "PostgreSQL"))

var national: [Double] = []
var sector: [Double] = []
var check = 0
for run in 1...runs {
    start = DispatchTime.now().uptimeNanoseconds
    let rollup = try await desk.rollup(campaigns[2].id, for: analyst, gate: gate)
    let trend = try await desk.trend(of: campaigns[2].id, for: analyst, gate: gate)
    national.append(seconds(start))
    check += (rollup.national?.submitted ?? 0) + trend.count
    start = DispatchTime.now().uptimeNanoseconds
    let telecom = try await desk.rollup(campaigns[2].id, for: regulatorSubject, gate: gate)
    let telecomTrend = try await desk.trend(of: campaigns[2].id, for: regulatorSubject, gate: gate)
    sector.append(seconds(start))
    check += (telecom.sectors["telecom"]?.submitted ?? 0) + telecomTrend.count
    print(String(format: "run %d: national %.1f ms (median %.3f over %d), sector %.1f ms", run, national.last! * 1000, rollup.national?.selfDeclared?.median ?? -1,
                 rollup.national?.submitted ?? 0, sector.last! * 1000))
}
print(String(format: "median of %d runs: national page %.1f ms, sector page %.1f ms (check %d)", runs, median(national) * 1000, median(sector) * 1000, check))
try await installation.close()
