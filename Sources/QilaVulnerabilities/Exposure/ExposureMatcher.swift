public import Foundation

/// Something an organisation may be exposed to: a KEV entry, or one affected product of an advisory.
public struct ExposureTarget: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable { case kev, advisory }
    public var kind: Kind
    /// The CVE for a KEV entry; `TRACKING#n` for an advisory's n-th product.
    public var reference: String
    public var cve: String?
    public var title: String
    public var vendor: String
    public var product: String
    /// The affected versions; nil for every version (KEV entries name none).
    public var range: VersionRange?
    /// `vendor:product` of a CPE 2.3 name, when the source gives one.
    public var cpe: String?
    /// `type/namespace/name` of a package URL, when the source gives one.
    public var purl: String?
    /// When it was made known: the KEV entry's addition, the advisory's first publication.
    public var published: Date?

    public init(
        kind: Kind, reference: String, cve: String?, title: String, vendor: String, product: String, range: VersionRange? = nil, cpe: String? = nil,
        purl: String? = nil, published: Date? = nil
    ) {
        self.published = published
        self.kind = kind
        self.reference = reference
        self.cve = cve
        self.title = title
        self.vendor = vendor
        self.product = product
        self.range = range
        self.cpe = cpe
        self.purl = purl
    }
}

/// A component of an organisation's inventory, as matching sees it.
public struct ExposureAsset: Sendable, Equatable {
    public var id: String
    public var organisation: String
    public var component: InventoryComponent

    public init(id: String, organisation: String, component: InventoryComponent) {
        self.id = id
        self.organisation = organisation
        self.component = component
    }
}

/// A match of a target to an asset. `approximate` when it rests on names rather than a CPE or
/// package URL, or when the asset's version is unknown and so cannot be checked against the range.
public struct ExposureMatch: Sendable, Equatable, Hashable {
    public var organisation: String
    public var asset: String
    public var kind: ExposureTarget.Kind
    public var reference: String
    public var approximate: Bool
    /// How it matched: `cpe`, `purl` or `name`.
    public var basis: String
}

/// Matches targets against inventories through indexes of the assets by CPE vendor and product,
/// by package, and by normalised product name: each target looks only at the assets that could
/// match it, so matching one new KEV entry touches only what it could affect.
public struct ExposureMatcher: Sendable {
    let assets: [ExposureAsset]
    let versions: [ProductVersion?]
    let cpeVendors: [String?]
    /// Each asset's vendor, folded.
    let vendors: [String]
    var byCPE: [String: [Int]] = [:]
    var byPURL: [String: [Int]] = [:]
    var byName: [String: [Int]] = [:]

    /// Lower case letters and digits only: `Palo Alto Networks` and `palo_alto_networks` agree.
    public static func fold(_ text: String) -> String {
        // ASCII, the usual case, byte by byte; anything else through Unicode's letters and digits.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): bytes.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): bytes.append(byte + 32)
            case 0x80...: return String(text.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.map(Character.init))
            default: continue
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A target with its names folded once, to be matched against many inventories.
    public struct Prepared: Sendable {
        public let target: ExposureTarget
        let product: String
        let vendor: String

        public init(_ target: ExposureTarget) {
            self.target = target
            product = ExposureMatcher.fold(target.product)
            vendor = ExposureMatcher.fold(target.vendor)
        }
    }

    public init(assets: [ExposureAsset]) {
        self.assets = assets
        var versions: [ProductVersion?] = []
        var cpeVendors: [String?] = []
        var vendors: [String] = []
        versions.reserveCapacity(assets.count)
        vendors.reserveCapacity(assets.count)
        for (index, asset) in assets.enumerated() {
            let cpe = asset.component.cpe.flatMap(CPEName.init)
            let purl = asset.component.purl.flatMap(PackageURL.init)
            let version = [asset.component.version, cpe?.specificVersion, purl?.version].compactMap { $0 }.first { !$0.isEmpty }
            versions.append(version.flatMap(ProductVersion.init))
            cpeVendors.append(cpe.map { Self.fold($0.vendor) })
            vendors.append(Self.fold(asset.component.vendor))
            if let cpe { byCPE["\(cpe.vendor):\(cpe.product)", default: []].append(index) }
            if let purl { byPURL[purl.key, default: []].append(index) }
            let name = Self.fold(asset.component.name)
            if !name.isEmpty { byName[name, default: []].append(index) }
            if let cpe {
                let product = Self.fold(cpe.product)
                if product != name { byName[product, default: []].append(index) }
            }
        }
        self.versions = versions
        self.cpeVendors = cpeVendors
        self.vendors = vendors
    }

    /// Every asset the target matches.
    public func matches(_ target: ExposureTarget) -> [ExposureMatch] { matches(Prepared(target)) }

    /// Every asset the prepared target matches.
    public func matches(_ prepared: Prepared) -> [ExposureMatch] {
        let target = prepared.target
        var found: [Int: ExposureMatch] = [:]
        func consider(_ index: Int, basis: String, exact: Bool) {
            guard found[index] == nil || (found[index]!.approximate && exact) else { return }
            let asset = assets[index]
            // Without a range (KEV names no versions) every version counts as exposed until the
            // organisation says otherwise.
            if let range = target.range {
                guard let version = versions[index] else {
                    // The asset's version is unknown: it may be affected; said to be approximate.
                    found[index] = ExposureMatch(
                        organisation: asset.organisation, asset: asset.id, kind: target.kind, reference: target.reference, approximate: true, basis: basis)
                    return
                }
                guard range.contains(version) else { return }
            }
            found[index] = ExposureMatch(
                organisation: asset.organisation, asset: asset.id, kind: target.kind, reference: target.reference, approximate: !exact, basis: basis)
        }
        if let cpe = target.cpe { for index in byCPE[cpe] ?? [] { consider(index, basis: "cpe", exact: true) } }
        if let purl = target.purl { for index in byPURL[purl] ?? [] { consider(index, basis: "purl", exact: true) } }
        // Names: the product must agree, and the vendor too where the asset names one.
        let (product, vendor) = (prepared.product, prepared.vendor)
        if !product.isEmpty {
            for index in byName[product] ?? [] where found[index] == nil {
                let assetVendor = vendors[index]
                let cpeVendor = cpeVendors[index]
                let vendorAgrees = vendor.isEmpty || (assetVendor.isEmpty && cpeVendor == nil) || assetVendor == vendor || cpeVendor == vendor
                    || (!assetVendor.isEmpty && (vendor.hasPrefix(assetVendor) || assetVendor.hasPrefix(vendor)))
                guard vendorAgrees else { continue }
                consider(index, basis: "name", exact: false)
            }
        }
        return found.keys.sorted().map { found[$0]! }
    }

    /// Every match of every target.
    public func matches(_ targets: [ExposureTarget]) -> [ExposureMatch] { targets.map(Prepared.init).flatMap { matches($0) } }
}
