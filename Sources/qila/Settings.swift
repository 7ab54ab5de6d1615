import ArgumentParser
import Configuration
import Foundation
import Logging
import QilaAccess
import QilaCore
import QilaStore
import SystemPackage

/// Where Qila keeps its data; shared by every command.
struct StorageOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (SQLite file, keys, internal CA). Default: ./qila-data")
    var data: String?

    @Option(name: .long, help: "A PostgreSQL URL (postgres://user:password@host:5432/db) instead of SQLite.")
    var database: String?

    @Option(name: .long, help: "A YAML file of settings. Default: ./qila.yaml if it exists.")
    var config: String?

    @Option(name: .long, help: "The installation key file, the same on every node (QILA_KEY_FILE). Default: DATA/installation.key, made at the first start.")
    var keyFile: String?

    /// The flags given, as configuration keys, to sit above the environment and the file.
    var flagValues: [String: String] {
        var values: [String: String] = [:]
        if let data { values["data"] = data }
        if let database { values["database"] = database }
        if let keyFile { values["key.file"] = keyFile }
        return values
    }

    /// Settings from flags, then `QILA_*` variables, then the YAML file.
    func reader(extra: [String: String] = [:]) async throws -> ConfigReader {
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in flagValues.merging(extra, uniquingKeysWith: { $1 }) {
            flags[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = .init(.string(value), isSecret: key == "database")
        }
        var environment: [String: String] = [:]
        for (key, value) in ProcessInfo.processInfo.environment where key.hasPrefix("QILA_") {
            environment[String(key.dropFirst(5))] = value
        }
        let path = config ?? "qila.yaml"
        let file: FileProvider<YAMLSnapshot>
        do {
            file = try await FileProvider<YAMLSnapshot>(filePath: FilePath(path), allowMissing: config == nil)
        } catch {
            throw ValidationError("cannot read the settings file \(path): \(error)")
        }
        return ConfigReader(providers: [
            InMemoryProvider(name: "flags", values: flags),
            EnvironmentVariablesProvider(
                environmentVariables: environment, secretsSpecifier: .specific(["DATABASE", "SMTP_PASSWORD"])),
            file,
        ])
    }

    func installationOptions(extra: [String: String] = [:]) async throws -> Installation.Options {
        let reader = try await reader(extra: extra)
        var options = Installation.Options(
            dataDirectory: reader.string(forKey: "data", default: "qila-data"),
            database: reader.string(forKey: "database"),
            breachedPasswordFile: reader.string(forKey: "breachedPasswords"))
        options.keyFile = reader.string(forKey: "key.file")
        options.nodeName = reader.string(forKey: "node.name")
        if let iterations = reader.int(forKey: "passwordIterations") { options.passwordIterations = iterations }
        return options
    }

    /// Where `qila serve` listens by these settings, for links printed on the command line.
    func serverBase() async throws -> String {
        let reader = try await reader()
        let host = reader.string(forKey: "http.host", default: "127.0.0.1")
        let port = reader.int(forKey: "http.port", default: 8443)
        let tls = reader.bool(forKey: "http.tls", default: true)
        return "\(tls ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    func open(extra: [String: String] = [:]) async throws -> Installation {
        do {
            return try await Installation.open(try await installationOptions(extra: extra), logger: Logger(label: "qila"))
        } catch let error as StoreError {
            throw fail(error.message)
        } catch let error as SecretsError {
            throw fail(error.message)
        } catch let error as KeyFileError {
            throw fail(error.description)
        } catch let error as BlocklistError {
            throw fail(error.message)
        }
    }
}

/// Prints one clear line to standard error; the caller exits with status 1.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("qila: \(message)\n".utf8))
    return ExitCode(1)
}

extension Installation {
    /// The account named by `--as`, as the subject the operator acts as at the server's shell: as if it had just signed in
    /// with a second factor.
    func shellSubject(account: String) async throws -> Subject {
        guard let user = try await store.user(username: account), !user.disabled, let organisation = try await store.organisation(user.organisation)
        else { throw ValidationError("--as: no active account '\(account)'") }
        let now = Date()
        return Subject(user: user, organisation: organisation, method: .passwordAndTOTP, authenticatedAt: now, mfaAt: now)
    }
}
