import QilaAccess

/// Carries the request's principal into the generated API handlers, which see only the
/// decoded input.
enum RequestScope {
    struct Value: Sendable {
        var principal: Authenticator.Principal?
        var source: String?
    }

    @TaskLocal static var current = Value()
}
