import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaCases
import QilaIngest
import QilaCore
import QilaRetention
import QilaStore

/// Signing in, set-up links, the profile, two-factor enrolment and re-authentication.
extension AccountPages {
    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/sign-in", use: signInPage)
        routes.post("/sign-in", use: signIn)
        routes.get("/sign-in/totp", use: totpPage)
        routes.post("/sign-in/totp", use: totp)
        routes.post("/sign-out", use: signOut)
        routes.get("/setup/:token", use: setupPage)
        routes.post("/setup/:token", use: setup)
        routes.get("/profile", use: profile)
        routes.post("/profile/password", use: changePassword)
        routes.post("/profile/time-zone", use: setTimeZone)
        routes.get("/profile/totp", use: totpEnrolPage)
        routes.post("/profile/totp", use: totpEnrol)
        routes.post("/profile/sessions/end-others", use: endOtherSessions)
        routes.post("/profile/tokens", use: createToken)
        routes.post("/profile/tokens/:id/revoke", use: revokeToken)
        routes.get("/reauthenticate", use: reauthenticatePage)
        routes.post("/reauthenticate", use: reauthenticate)
        return routes
    }

    // MARK: sign-in

    func signInPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        if context.principal != nil { return redirect("/") }
        if try await installation.needsFirstRun() {
            return render("sign-in", "Sign in", context, SignInView(error: "Qila has not been set up yet. Open the set-up link that `qila serve` printed when it started."))
        }
        return render("sign-in", "Sign in", context, SignInView(expired: request.uri.queryParameters["expired"] != nil))
    }

    func signIn(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let form = try await form(request, context)
        let username = form["username"] ?? ""
        let outcome = try await authenticator.signIn(
            username: username, password: form["password"] ?? "", source: context.sourceAddress,
            userAgent: request.headers[.userAgent])
        switch outcome {
        case .signedIn(let secret, _):
            var response = redirect("/")
            response.setCookie(sessionCookie(secret))
            return response
        case .needsSecondFactor(let secret, _):
            var response = redirect("/sign-in/totp")
            response.setCookie(sessionCookie(secret))
            return response
        case .refused(let message):
            return render("sign-in", "Sign in", context, SignInView(error: message, username: username), status: .unauthorized)
        case .throttled(let until):
            var response = render(
                "sign-in", "Sign in", context, SignInView(error: Self.throttledMessage(until), username: username), status: .tooManyRequests)
            response.headers[.retryAfter] = String(Self.minutes(until) * 60)
            return response
        }
    }

    func totpPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        guard context.awaitingSecondFactor != nil else { return redirect("/") }
        return render("totp", "Second factor", context, SecondFactorView())
    }

    func totp(_ request: Request, context: QilaRequestContext) async throws -> Response {
        guard context.awaitingSecondFactor != nil, let secret = context.sessionSecret else { return redirect("/sign-in") }
        let form = try await form(request, context)
        switch try await authenticator.verifySecondFactor(sessionSecret: secret, code: form["code"] ?? "", source: context.sourceAddress) {
        case .verified(let renewed):
            var response = redirect("/")
            response.setCookie(sessionCookie(renewed))
            return response
        case .refused:
            return render("totp", "Second factor", context, SecondFactorView(error: "That code is not right, or was already used."), status: .unauthorized)
        case .throttled(let until):
            var response = render("totp", "Second factor", context, SecondFactorView(error: Self.throttledMessage(until)), status: .tooManyRequests)
            response.headers[.retryAfter] = String(Self.minutes(until) * 60)
            return response
        }
    }

    func signOut(_ request: Request, context: QilaRequestContext) async throws -> Response {
        if let secret = context.sessionSecret {
            try await authenticator.signOut(secret: secret, source: context.sourceAddress)
        }
        var response = redirect("/sign-in")
        response.setCookie(clearedCookie())
        return response
    }

    // MARK: set-up links

    func setupPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let token = try context.parameters.require("token")
        guard try await authenticator.oneTimeLinkIsValid(token) else {
            throw Problem(.notFound, "this set-up link is unknown, used or expired; ask an administrator for a new one")
        }
        return try await setupForm(token: token, context: context, echo: FormFields(""), error: nil)
    }

    func setupForm(token: String, context: QilaRequestContext, echo form: FormFields, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let firstRun = try await installation.needsFirstRun()
        var view = SetupView(
            token: token, firstRun: firstRun, organisation: form["organisation"] ?? "", displayName: form["displayName"] ?? "",
            username: form["username"] ?? "", email: form["email"] ?? "", error: error)
        if !firstRun, let link = try await authenticator.oneTimeLinkUser(token) {
            view.displayName = link.displayName
            view.username = link.username
        }
        return render("setup", firstRun ? "Set up Qila" : "Choose your password", context, view, status: status)
    }

    func setup(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let token = try context.parameters.require("token")
        let form = try await form(request, context)
        guard try await authenticator.oneTimeLinkIsValid(token) else {
            throw Problem(.notFound, "this set-up link is unknown, used or expired; ask an administrator for a new one")
        }
        do {
            if try await installation.needsFirstRun() {
                let password = try form.required("password")
                // Check the password before creating anything, so a refusal leaves no half-made account.
                if let refusal = authenticator.passwordPolicy.check(
                    password, mfaEnabled: false, context: ["username": form["username"] ?? "", "name": form["displayName"] ?? ""])
                {
                    throw refusal
                }
                var authority = try await installation.authority()
                if authority == nil {
                    authority = try await installation.directory.createOrganisation(
                        .init(name: try form.required("organisation", label: "The authority's name"), kind: .authority, sector: "government"), by: nil)
                }
                guard let authority else { throw Problem(.internalServerError, "the authority could not be created") }
                let admin = try await installation.directory.createUser(
                    .init(
                        username: try form.required("username"), displayName: try form.required("displayName", label: "Your name"),
                        email: form["email"], roles: [.authorityAdmin], clearance: .red),
                    in: authority.id, by: nil)
                try await authenticator.setPassword(password, for: admin, organisationName: authority.name)
                _ = try await authenticator.redeemOneTimeLink(token)
            } else {
                guard let user = try await authenticator.oneTimeLinkUser(token) else { throw Problem(.notFound, "this link does not belong to an account") }
                let organisation = try await store.organisation(user.organisation)
                try await authenticator.setPassword(try form.required("password"), for: user, organisationName: organisation?.name)
                _ = try await authenticator.redeemOneTimeLink(token)
            }
        } catch let refusal as PasswordPolicy.Refusal {
            return try await setupForm(token: token, context: context, echo: form, error: refusal.description, status: .badRequest)
        } catch let error as QilaError {
            return try await setupForm(token: token, context: context, echo: form, error: error.description, status: .badRequest)
        } catch let problem as Problem where problem.status == 400 {
            return try await setupForm(token: token, context: context, echo: form, error: problem.detail ?? "", status: .badRequest)
        }
        return redirect("/sign-in")
    }

    // MARK: overview

    // MARK: profile

    func profile(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await enforcement.require(subject, .read, .credentials(of: subject), source: context.sourceAddress)
        let credentials = try await store.credentials(of: subject.user.id)
        let current = context.principal?.session?.idHash
        let view = ProfileView(
            mfa: credentials?.mfaEnabled ?? false, mfaSince: credentials?.totpEnabledAt?.display ?? "",
            minimumLength: credentials?.mfaEnabled == true ? PasswordPolicy.minimumWithMFA : PasswordPolicy.minimumSingleFactor,
            sessions: try await store.sessions(of: subject.user.id).map { session in
                ProfileView.SessionRow(
                    created: session.createdAt.display, lastSeen: session.lastSeenAt.display, source: session.sourceAddress ?? "",
                    agent: session.userAgent ?? "", current: session.idHash == current)
            },
            tokens: try await store.tokens(of: subject.user.id).map { token in
                ProfileView.TokenRow(
                    id: token.id.description, name: token.name, prefix: token.prefix, scopes: token.scopes.sorted().map(\.rawValue).joined(separator: ", "),
                    expires: token.expiresAt.display, lastUsed: token.lastUsedAt?.display ?? "never", revoked: token.revokedAt != nil)
            },
            kept: try await refusedForms.kept(request, context: context), zone: DisplayZone.current)
        return render("profile", "Your profile", context, view)
    }

    func setTimeZone(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        var state = FormState(form: ProfileView.zoneFormName, fields: try await form(request, context))
        try await enforcement.require(subject, .update, .credentials(of: subject), source: context.sourceAddress)
        do {
            try await installation.directory.setDisplayTimeZone(state.value("timeZone"), for: subject)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: ProfileView.zoneFields(current: DisplayZone.current, state: nil))
            return try await refusedForms.redirect(state, to: "/profile", context: context)
        }
        return try await profileDone("Times are now shown in \(DisplayZone(identifier: state.value("timeZone"))?.name ?? state.value("timeZone")).", context)
    }

    /// Back to the profile with `message` shown once.
    func profileDone(_ message: String, _ context: QilaRequestContext) async throws -> Response {
        try await refusedForms.redirect(FormState(form: ProfileView.doneName, values: ["message": [message]]), to: "/profile", context: context, fragment: "main")
    }

    func changePassword(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        var state = FormState(form: ProfileView.passwordFormName, fields: try await form(request, context))
        try await enforcement.require(subject, .update, .credentials(of: subject), source: context.sourceAddress)
        func refuse(_ field: String, _ message: String) async throws -> Response {
            state.errors[field] = message
            state.values = [:]
            return try await refusedForms.redirect(state, to: "/profile", context: context)
        }
        guard let hash = try await store.credentials(of: subject.user.id)?.passwordHash, authenticator.hasher.verify(state.value("current"), against: hash) else {
            return try await refuse("current", "The current password is not right.")
        }
        do {
            try await authenticator.setPassword(state.value("new"), for: subject.user, organisationName: subject.organisation.name)
        } catch let refusal as PasswordPolicy.Refusal {
            return try await refuse("new", refusal.description)
        }
        let ended = try await authenticator.endOtherSessions(of: subject.user, keeping: context.principal?.session)
        return try await profileDone("Password changed. \(ended) other session\(ended == 1 ? "" : "s") signed out.", context)
    }

    func totpEnrolPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        if try await store.credentials(of: subject.user.id)?.mfaEnabled == true { return redirect("/profile") }
        var totp = try await authenticator.pendingTOTP(for: subject.user)
        if totp == nil { totp = try await authenticator.beginTOTPEnrolment(for: subject.user) }
        guard let totp else { return redirect("/profile") }
        return try totpEnrolView(totp, subject: subject, context: context, reason: Self.secondFactorReasons[request.uri.queryParameters["reason"].map(String.init) ?? ""])
    }

    /// Why the person was sent to turn on two-factor sign-in, by the `reason` they came with.
    static let secondFactorReasons = [
        "administer": "Administering accounts and organisations needs two-factor sign-in. Turn it on to continue.",
        "warrants": "Warrants and the traffic data they release need two-factor sign-in. Turn it on to continue.",
    ]

    func totpEnrolView(_ totp: TOTP, subject: Subject, context: QilaRequestContext, reason: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) throws -> Response {
        let uri = totp.provisioningURI(account: subject.user.username, issuer: authenticator.issuer)
        let view = TOTPEnrolView(
            qr: try QRCode(uri).svg(title: "QR code for your authenticator app"), secret: Base32.encode(totp.secret).chunked(4), reasonText: reason, error: error)
        return render("totp-enrol", "Two-factor sign-in", context, view, status: status)
    }

    func totpEnrol(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        try await enforcement.require(subject, .update, .credentials(of: subject), source: context.sourceAddress)
        if let codes = try await authenticator.confirmTOTPEnrolment(for: subject.user, code: form["code"] ?? "") {
            if var session = context.principal?.session {
                session.mfaAt = Date()
                session.method = .passwordAndTOTP
                try await store.updateSession(session)
            }
            return render("totp-enrol", "Two-factor sign-in", context, TOTPEnrolView(recoveryCodes: codes, enrolled: true))
        }
        guard let totp = try await authenticator.pendingTOTP(for: subject.user) else { return redirect("/profile/totp") }
        return try totpEnrolView(totp, subject: subject, context: context, error: "That code is not right. Check the time on your phone and try the next code.", status: .badRequest)
    }

    func endOtherSessions(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await enforcement.require(subject, .update, .credentials(of: subject), source: context.sourceAddress)
        let ended = try await authenticator.endOtherSessions(of: subject.user, keeping: context.principal?.session)
        return try await profileDone("\(ended) other session\(ended == 1 ? "" : "s") signed out.", context)
    }

    func createToken(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        var state = FormState(form: ProfileView.tokenFormName, fields: try await form(request, context))
        try await enforcement.require(
            subject, .create, Resource(kind: .apiToken, owner: subject.organisation.id, sector: subject.organisation.sector, person: subject.user.id),
            source: context.sourceAddress)
        let scopes = Set(state.values("scope").compactMap(TokenScope.init(rawValue:)).filter { $0 != .admin })
        do {
            guard let days = Int(state.value("days").trimmingCharacters(in: .whitespaces)) else {
                throw QilaError.invalid("is a whole number of days from 1 to 397", field: "days")
            }
            let issued = try await authenticator.issueToken(for: subject.user, name: state.value("name"), scopes: scopes, days: days, by: subject)
            let kept = FormState(form: ProfileView.tokenIssuedName, values: ["secret": [issued.secret]])
            return try await refusedForms.redirect(kept, to: "/profile", context: context, fragment: "new-token")
        } catch let error as QilaError where error.code == .invalidInput || error.code == .forbidden {
            state.refuse(error, fields: ProfileView.tokenFields(state: nil), renamed: ["expiresInDays": "days", "scopes": "scope"])
            return try await refusedForms.redirect(state, to: "/profile", context: context)
        }
    }

    func revokeToken(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        guard let id = APITokenID(try context.parameters.require("id")) else { throw Problem(.notFound, "no such token") }
        try await enforcement.require(
            subject, .delete, Resource(kind: .apiToken, owner: subject.organisation.id, person: subject.user.id), source: context.sourceAddress)
        let token: APIToken
        do {
            token = try await authenticator.revokeToken(id, of: subject.user.id, by: subject, source: context.sourceAddress)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, "no such token")
        }
        return try await profileDone("Token \(token.name) revoked.", context)
    }

    // MARK: re-authentication

    func reauthenticatePage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let next = request.uri.queryParameters["next"].flatMap { LocalRedirect.path(String($0)) } ?? "/"
        return render(
            "reauthenticate", "Confirm it is you", context, ReauthenticateView(next: next, mfa: try await store.credentials(of: subject.user.id)?.mfaEnabled ?? false))
    }

    func reauthenticate(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        guard let session = context.principal?.session else { return redirect("/") }
        let next = form["next"].flatMap(LocalRedirect.path) ?? "/"
        let mfa = try await store.credentials(of: subject.user.id)?.mfaEnabled ?? false
        switch try await authenticator.reauthenticate(
            session: session, password: form["password"] ?? "", code: form["code"], source: context.sourceAddress)
        {
        case .verified(let secret):
            var response = redirect(next)
            response.setCookie(sessionCookie(secret))
            return response
        case .refused:
            return render("reauthenticate", "Confirm it is you", context, ReauthenticateView(next: next, mfa: mfa, error: "The password or code is not right."), status: .unauthorized)
        case .throttled(let until):
            var response = render("reauthenticate", "Confirm it is you", context, ReauthenticateView(next: next, mfa: mfa, error: Self.throttledMessage(until)), status: .tooManyRequests)
            response.headers[.retryAfter] = String(Self.minutes(until) * 60)
            return response
        }
    }

    static func minutes(_ until: Date) -> Int { max(1, Int((until.timeIntervalSinceNow / 60).rounded(.up))) }

    static func throttledMessage(_ until: Date) -> String {
        let minutes = minutes(until)
        return "Too many failed attempts. Try again in \(minutes) minute\(minutes == 1 ? "" : "s")."
    }
}

extension String {
    /// Groups characters for reading aloud or typing: `ABCD EFGH ...`.
    func chunked(_ size: Int) -> String {
        var out = ""
        for (index, character) in enumerated() {
            if index > 0 && index % size == 0 { out.append(" ") }
            out.append(character)
        }
        return out
    }
}

