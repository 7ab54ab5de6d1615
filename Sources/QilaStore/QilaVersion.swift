/// What a node says it runs, on the nodes page: during a rolling upgrade, nodes of two versions
/// share one database, and the schema each knows tells an administrator which are upgraded.
public enum QilaVersion {
    public static let release = "0.10.0-dev"
    public static var schema: Int64 { Schema.migrations.map(\.version).max() ?? 0 }
    public static var description: String { "\(release) (schema \(schema))" }
}
