// Times exposure matching at national scale: `exposure-match [--entries 1400] [--organisations 1000]
// [--components 2000] [--advisories 200] [--runs 5]`. Builds a KEV-shaped catalogue (entries naming
// a vendor and a product, drawn from 260 vendors and 900 products as CISA's catalogue spreads them),
// advisories with CPE and purl products and version ranges, and for each organisation an inventory
// of components drawn from a universe of 40,000 products in which the catalogue's products are
// common (a third of the components carry a CPE name, a sixth a package URL). Then, per run:
// indexing every organisation's inventory, matching every entry and advisory product against every
// organisation (the full national figure), and matching one new entry against the indexes kept
// (what a new KEV entry costs). Seeded: the same data every run. Prints each run and the medians.
// Run on one core: `taskset -c 1 .build/release/exposure-match`.
import BenchmarkSupport
import Foundation
import QilaVulnerabilities

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> Int? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return Int(arguments[index + 1])
}
let entryCount = option("--entries") ?? 1400
let organisationCount = option("--organisations") ?? 1000
let componentCount = option("--components") ?? 2000
let advisoryCount = option("--advisories") ?? 200
let runs = option("--runs") ?? 5


var random = Seeded(state: 23)
let vendors = (0..<260).map { "Vendor \($0) Systems" }
// The catalogue's products: 900, each of one vendor.
let kevProducts = (0..<900).map { index in (vendor: vendors[index % vendors.count], product: "Product \(index) Server") }
var targets: [ExposureTarget] = []
for index in 0..<entryCount {
    // Like CISA's catalogue, a few products carry many entries.
    let pick = Int(Double(kevProducts.count) * pow(Double.random(in: 0..<1, using: &random), 2))
    let product = kevProducts[pick]
    targets.append(
        ExposureTarget(
            kind: .kev, reference: String(format: "CVE-2025-%05d", index), cve: nil, title: "", vendor: product.vendor, product: product.product))
}
for index in 0..<advisoryCount {
    for part in 0..<3 {
        let product = kevProducts[Int.random(in: 0..<kevProducts.count, using: &random)]
        let slug = ExposureMatcher.fold(product.product)
        let vendorSlug = ExposureMatcher.fold(product.vendor)
        let usesPURL = part == 2
        targets.append(
            ExposureTarget(
                kind: .advisory, reference: "ADV-\(index)#\(part + 1)", cve: nil, title: "", vendor: product.vendor, product: product.product,
                range: try! VersionRange(">=\(1 + part).0, <\(3 + part).\(Int.random(in: 0..<9, using: &random))"),
                cpe: usesPURL ? nil : "\(vendorSlug):\(slug)", purl: usesPURL ? "generic/\(vendorSlug)/\(slug)" : nil))
    }
}

// The universe organisations draw from: the catalogue's products and 39,100 others.
let others = (0..<39_100).map { index in (vendor: "Maker \(index % 3000)", product: "Component \(index)") }
func inventory(_ organisation: Int, _ random: inout Seeded) -> [ExposureAsset] {
    (0..<componentCount).map { index in
        let known = Int.random(in: 0..<10, using: &random) == 0
        let product = known ? kevProducts[Int.random(in: 0..<kevProducts.count, using: &random)] : others[Int.random(in: 0..<others.count, using: &random)]
        let version = "\(Int.random(in: 1..<6, using: &random)).\(Int.random(in: 0..<10, using: &random)).\(Int.random(in: 0..<20, using: &random))"
        let slug = ExposureMatcher.fold(product.product)
        let vendorSlug = ExposureMatcher.fold(product.vendor)
        let kind = index % 6
        return ExposureAsset(
            id: "\(organisation)-\(index)", organisation: String(organisation),
            component: InventoryComponent(
                vendor: product.vendor, name: product.product, version: version,
                cpe: kind < 2 ? "cpe:2.3:a:\(vendorSlug):\(slug):\(version):*:*:*:*:*:*:*" : nil,
                purl: kind == 2 ? "pkg:generic/\(vendorSlug)/\(slug)@\(version)" : nil))
    }
}
let start = DispatchTime.now().uptimeNanoseconds
var inventories: [[ExposureAsset]] = []
for organisation in 0..<organisationCount { inventories.append(inventory(organisation, &random)) }
print("data: \(entryCount) KEV entries, \(advisoryCount * 3) advisory products, \(organisationCount) organisations × \(componentCount) components (\(String(format: "%.1f", seconds(start))) s to make)")

var indexing: [Double] = []
var matching: [Double] = []
var incremental: [Double] = []
for run in 1...runs {
    var begin = DispatchTime.now().uptimeNanoseconds
    let matchers = inventories.map { ExposureMatcher(assets: $0) }
    indexing.append(seconds(begin))
    begin = DispatchTime.now().uptimeNanoseconds
    // As the desk does: each target's names folded once for every organisation.
    let prepared = targets.map(ExposureMatcher.Prepared.init)
    var found = 0
    var approximate = 0
    for matcher in matchers {
        for target in prepared {
            for match in matcher.matches(target) {
                found += 1
                if match.approximate { approximate += 1 }
            }
        }
    }
    matching.append(seconds(begin))
    // New entries, one at a time against the indexes kept (the median of ten).
    var each: [Double] = []
    var touched = 0
    for number in 0..<10 {
        let product = kevProducts[7 + number * 50]
        let one = ExposureMatcher.Prepared(
            ExposureTarget(kind: .kev, reference: "CVE-2026-9999\(number)", cve: nil, title: "", vendor: product.vendor, product: product.product))
        begin = DispatchTime.now().uptimeNanoseconds
        touched = 0
        for matcher in matchers { touched += matcher.matches(one).count }
        each.append(seconds(begin))
    }
    incremental.append(median(each))
    print(
        "run \(run): index \(String(format: "%.2f", indexing.last!)) s, match all \(String(format: "%.2f", matching.last!)) s (\(found) exposures, \(approximate) approximate), "
            + "one new entry \(String(format: "%.1f", incremental.last! * 1000)) ms (the last: \(touched) exposures)")
}
print(
    "median: index \(String(format: "%.2f", median(indexing))) s, match all \(String(format: "%.2f", median(matching))) s, "
        + "together \(String(format: "%.2f", median(zip(indexing, matching).map(+)))) s, one new entry \(String(format: "%.1f", median(incremental) * 1000)) ms")
