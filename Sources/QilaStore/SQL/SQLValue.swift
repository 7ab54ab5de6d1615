public import Foundation

/// A value bound into, or read out of, a SQL statement. Both backends store the same five kinds,
/// so that one repository layer serves SQLite and PostgreSQL alike.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLValue {
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    public init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    public init(_ value: Int) { self = .integer(Int64(value)) }
    public init(_ value: Bool) { self = .integer(value ? 1 : 0) }
    public init(_ value: [UInt8]?) { self = value.map { .blob($0) } ?? .null }
    /// Times are stored as whole milliseconds since 1970 in a 64-bit integer on both backends.
    public init(_ value: Date?) {
        self = value.map { .integer(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null
    }
}

/// One statement with its bound values; `?` marks each placeholder, in order.
public struct SQLStatement: Sendable {
    public var sql: String
    public var binds: [SQLValue]
    public init(_ sql: String, _ binds: [SQLValue] = []) {
        self.sql = sql
        self.binds = binds
    }
}

/// A row read back, by column name (lower case).
public struct SQLRow: Sendable {
    public var values: [String: SQLValue]
    public init(_ values: [String: SQLValue]) { self.values = values }

    public subscript(_ column: String) -> SQLValue { values[column] ?? .null }

    public func string(_ column: String) throws -> String {
        guard let value = optionalString(column) else { throw missing(column, "text") }
        return value
    }

    public func optionalString(_ column: String) -> String? {
        switch self[column] {
        case .text(let text): text
        case .blob(let bytes): String(decoding: bytes, as: UTF8.self)
        case .integer(let value): String(value)
        default: nil
        }
    }

    public func int(_ column: String) throws -> Int64 {
        guard let value = optionalInt(column) else { throw missing(column, "integer") }
        return value
    }

    public func optionalInt(_ column: String) -> Int64? {
        switch self[column] {
        case .integer(let value): value
        case .real(let value): Int64(value)
        case .text(let text): Int64(text)
        default: nil
        }
    }

    public func bool(_ column: String) throws -> Bool { try int(column) != 0 }

    public func date(_ column: String) throws -> Date {
        Date(timeIntervalSince1970: Double(try int(column)) / 1000)
    }

    public func optionalDate(_ column: String) -> Date? {
        optionalInt(column).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    public func optionalBytes(_ column: String) -> [UInt8]? {
        switch self[column] {
        case .blob(let bytes): bytes
        case .text(let text): Array(text.utf8)
        default: nil
        }
    }

    private func missing(_ column: String, _ kind: String) -> StoreError {
        StoreError(.corruptRow, "column \(column) should hold \(kind) but holds \(self[column])")
    }
}
