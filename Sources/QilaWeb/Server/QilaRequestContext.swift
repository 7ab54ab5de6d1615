import Foundation
import Hummingbird
import QilaStore
import NIOCore
import QilaAccess
import QilaCore

/// Per-request state: who is asking (established by `AuthenticationMiddleware`) and the
/// connection, for the client certificate and the source address.
struct QilaRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: (any Channel)?
    var principal: Authenticator.Principal?
    /// Set when the session passed the password step but not yet the second factor.
    var awaitingSecondFactor: Authenticator.Principal?
    /// The raw session cookie, for sign-out and re-authentication.
    var sessionSecret: String?
    /// Another node of this installation, when it called with its node certificate.
    var node: NodeRecord?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    init(source: some RequestContextSource) {
        coreContext = .init(source: source)
        channel = nil
    }

    /// Bodies above this are refused with 413 before they are read: 1 MiB, more for attachments.
    var maxUploadSize: Int = 1 << 20

    var sourceAddress: String? {
        guard let address = channel?.remoteAddress else { return nil }
        return address.ipAddress
    }

    func subject(at now: Date = Date()) -> Subject? { principal?.subject(at: now) }
}

extension QilaRequestContext: InitializableFromSource {}
