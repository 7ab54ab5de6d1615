public import Foundation

/// Refused forms between the POST that refused them and the GET that shows them again
/// (post-redirect-get). In the database, so that the GET may reach another node; sealed by the
/// caller, since what people type into a form can name people.
extension SQLStore {
    /// Keeps `sealed` under `id` for the session `sessionHash`, and forgets forms older than
    /// `forgetBefore` (never shown: the person went elsewhere).
    public func keepRefusedForm(id: String, sessionHash: String, sealed: [UInt8], at time: Date, forgetBefore: Date) async throws {
        try await database.execute("DELETE FROM refused_forms WHERE created_at < ?", SQLValue(forgetBefore))
        try await database.execute(
            "INSERT INTO refused_forms (id, session_hash, sealed, created_at) VALUES (?, ?, ?, ?)",
            .text(id), .text(sessionHash), .blob(sealed), SQLValue(time))
    }

    /// The form kept under `id` for this session since `notBefore` (a reload shows it again), or
    /// nil when there is none, it is older, or it belongs to another session.
    public func refusedForm(id: String, sessionHash: String, notBefore: Date) async throws -> [UInt8]? {
        try await database.query(
            "SELECT sealed FROM refused_forms WHERE id = ? AND session_hash = ? AND created_at >= ?",
            .text(id), .text(sessionHash), SQLValue(notBefore)
        ).first?.optionalBytes("sealed")
    }
}
