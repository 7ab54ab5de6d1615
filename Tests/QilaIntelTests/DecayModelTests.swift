import Foundation
import QilaCore
import QilaDetect
import QilaIntel
import QilaStore
import QilaTestSupport
import Testing

@Suite("Indicator scores: decay with age, renewal by sightings, false positives, expiry, overrides, every score explained")
struct DecayModelTests {
    static let now = FixedInstant.thursdayAfternoon.date
    static func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }
    static let organisationA = OrganisationID()
    static let organisationB = OrganisationID()

    func facts(modified days: Double, confidence: Int? = nil, kinds: Set<ObservableKind> = [.ipv4]) -> DecayModel.Facts {
        DecayModel.Facts(id: "indicator--1", confidence: confidence, modified: Self.daysAgo(days), kinds: kinds)
    }

    func sighting(_ kind: IntelSighting.Kind, daysAgo days: Double, by organisation: OrganisationID = organisationA) -> IntelSighting {
        IntelSighting(indicator: "indicator--1", organisation: organisation, kind: kind, source: "page", firstSeen: Self.daysAgo(days), lastSeen: Self.daysAgo(days))
    }

    @Test("The score falls polynomially over the lifetime of the most volatile value in the pattern")
    func decay() {
        let model = DecayModel()
        // An IPv4 address lasts 30 days: after 7.5 days, 75 × (1 − √0.25) = 37.5.
        let quarter = model.score(facts(modified: 7.5), sightings: [], override: nil, now: Self.now)
        #expect(quarter.value == 38 && quarter.active)
        #expect(quarter.reasons.first == "starts at 75, the installation's default (no confidence given)")
        #expect(quarter.reasons[1].contains("7 of 30 days (the lifetime of ipv4-addr) have passed: × 0.50"))
        // A hash lasts a year; a pattern naming both decays as its address does.
        #expect(model.score(facts(modified: 7.5, kinds: [.sha256]), sightings: [], override: nil, now: Self.now).value == 64)
        #expect(model.score(facts(modified: 7.5, kinds: [.sha256, .ipv4]), sightings: [], override: nil, now: Self.now).value == 38)
        // The producer's confidence is where it starts; past the lifetime it is 0.
        #expect(model.score(facts(modified: 0, confidence: 90), sightings: [], override: nil, now: Self.now).value == 90)
        let old = model.score(facts(modified: 31), sightings: [], override: nil, now: Self.now)
        #expect(old.value == 0 && !old.active && old.reasons.last == "0 is below the threshold 30: not in detection")
        // The parameters are settings: a linear fall.
        var linear = DecayModel()
        linear.speed = 1
        #expect(linear.score(facts(modified: 15), sightings: [], override: nil, now: Self.now).value == 38)
    }

    @Test("A sighting renews the indicator; false positives and expiry count against the version")
    func sightings() {
        let model = DecayModel()
        let renewed = model.score(facts(modified: 25), sightings: [sighting(.seen, daysAgo: 1)], override: nil, now: Self.now)
        #expect(renewed.value == 61 && renewed.reasons[1].hasPrefix("renewed by a sighting on 2026-12-02 (1 in all, by 1 organisation)"))
        // A sighting after `now` (a clock ahead elsewhere) is not counted yet.
        #expect(model.score(facts(modified: 25), sightings: [sighting(.seen, daysAgo: -1)], override: nil, now: Self.now).value == 7)
        let doubted = model.score(
            facts(modified: 1), sightings: [sighting(.falsePositive, daysAgo: 0.5), sighting(.falsePositive, daysAgo: 0.5, by: Self.organisationB)],
            override: nil, now: Self.now)
        #expect(doubted.value == 15 && !doubted.active)
        #expect(doubted.reasons.contains("reported a false positive by 2 organisations since this version: × 0.25"))
        // A false positive of an older version does not count against a newer one.
        #expect(model.score(facts(modified: 1), sightings: [sighting(.falsePositive, daysAgo: 2)], override: nil, now: Self.now).value == 61)
        let expired = model.score(facts(modified: 1), sightings: [sighting(.expired, daysAgo: 0.2)], override: nil, now: Self.now)
        #expect(expired.value == 0 && expired.reasons.contains("reported expired on 2026-12-03: 0"))
    }

    @Test("Revoked, past valid_until, before valid_from: out whatever the score; an analyst's score replaces the computed one")
    func endsAndOverrides() {
        let model = DecayModel()
        var revoked = facts(modified: 1)
        revoked.revoked = true
        let override = IntelScoreOverride(indicator: "indicator--1", score: 90, reason: "confirmed", account: UserID(), time: Self.daysAgo(1))
        let out = model.score(revoked, sightings: [], override: override, now: Self.now)
        #expect(!out.active && out.reasons == ["revoked by its producer: not in detection", "an analyst's score of 90 does not bring it back"])
        var until = facts(modified: 1)
        until.validUntil = Self.daysAgo(0.1)
        #expect(!model.score(until, sightings: [], override: nil, now: Self.now).active)
        var from = facts(modified: 1)
        from.validFrom = Self.daysAgo(-1)
        #expect(model.score(from, sightings: [], override: nil, now: Self.now).reasons == ["valid from 2026-12-04T15:30:00Z, not yet: not in detection"])
        let kept = model.score(facts(modified: 40), sightings: [], override: override, now: Self.now)
        #expect(kept.value == 90 && kept.computed == 0 && kept.active)
        #expect(kept.reasons.contains("computed 0; set to 90 by an analyst on 2026-12-02: confirmed"))
    }
}
