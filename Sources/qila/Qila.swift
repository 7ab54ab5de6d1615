import ArgumentParser

@main
struct Qila: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qila",
        abstract: "Qila, the national cyber-defence platform.",
        discussion: """
            Start the platform with `qila serve`: it keeps its data in ./qila-data (SQLite) unless told \
            otherwise, serves HTTPS on 127.0.0.1:8443 with a certificate from its own CA, and on first \
            start prints a one-time link to create the authority's first administrator.

            Settings come from flags, then QILA_* environment variables (QILA_DATA, QILA_DATABASE, \
            QILA_HTTP_HOST, QILA_HTTP_PORT, QILA_HTTP_TLS, QILA_HOSTNAMES), then qila.yaml.
            """,
        subcommands: [Serve.self, Migrate.self, Admin.self, Certs.self, Audit.self, PolicyCommand.self, Rules.self, Detect.self, Flows.self, Sensors.self, Keys.self, Intel.self, Frameworks.self, KEV.self, CVSSCommand.self, Assets.self, ExposureCommand.self]
    )
}
