/// The value modifiers of the Sigma specification (v2.1), written after `|` in a field name.
public enum SigmaModifier: String, Sendable, Hashable, CaseIterable {
    case contains, startswith, endswith, all, exists, cased, neq, windash
    case re, i, m, s
    case base64, base64offset, utf16le, utf16be, utf16, wide
    case lt, lte, gt, gte
    case minute, hour, day, week, month, year
    case cidr, expand, fieldref

    /// Modifiers that only qualify `re`.
    static let regularExpressionFlags: Set<SigmaModifier> = [.i, .m, .s]
    /// Modifiers that change how the value is encoded before matching.
    static let encodings: Set<SigmaModifier> = [.base64, .base64offset, .utf16le, .utf16be, .utf16, .wide]
    static let comparisons: Set<SigmaModifier> = [.lt, .lte, .gt, .gte]
    static let timeParts: Set<SigmaModifier> = [.minute, .hour, .day, .week, .month, .year]
    static let positions: Set<SigmaModifier> = [.contains, .startswith, .endswith]

    /// Checks that a field's modifiers can go together; returns why not, or nil.
    static func conflict(in modifiers: [SigmaModifier]) -> String? {
        let set = Set(modifiers)
        if set.count != modifiers.count { return "a modifier is repeated" }
        if set.intersection(positions).count > 1 { return "only one of contains, startswith and endswith may be used" }
        if !set.intersection(regularExpressionFlags).isEmpty && !set.contains(.re) {
            return "the flags i, m and s qualify only the re modifier"
        }
        if set.contains(.re), !set.intersection(positions.union(encodings).union([.windash, .cidr, .expand])).isEmpty {
            return "re cannot be combined with contains, startswith, endswith, windash, cidr, expand or encodings"
        }
        if set.intersection(comparisons).count > 1 { return "only one of lt, lte, gt and gte may be used" }
        if !set.intersection(comparisons).isEmpty, !set.subtracting(comparisons.union(timeParts)).isEmpty {
            return "lt, lte, gt and gte compare numbers and combine only with a time part"
        }
        if set.intersection(timeParts).count > 1 { return "only one of minute, hour, day, week, month and year may be used" }
        if !set.intersection(timeParts).isEmpty, !set.subtracting(timeParts.union(comparisons).union([.neq, .all])).isEmpty {
            return "minute, hour, day, week, month and year read a date and combine only with lt, lte, gt, gte, neq and all"
        }
        if set.contains(.exists), set.count > 1 { return "exists stands alone" }
        if set.contains(.cidr), set.count > 1 { return "cidr stands alone" }
        if set.contains(.fieldref), !set.subtracting([.fieldref, .contains, .startswith, .endswith, .cased, .neq]).isEmpty {
            return "fieldref combines only with contains, startswith, endswith, cased and neq"
        }
        return nil
    }
}
