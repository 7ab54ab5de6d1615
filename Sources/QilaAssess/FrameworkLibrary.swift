public import Foundation

/// The frameworks Qila knows: those it ships (NIST CSF 2.0…) and any others given. Mappings are
/// checked across them: a link's `to` must be a requirement of its target when the target is known.
public struct FrameworkLibrary: Sendable {
    public let frameworks: [Framework]

    /// Checks the frameworks together; refused with every problem when two share an id or a
    /// mapping names a requirement its target does not have.
    public init(_ frameworks: [Framework]) throws(FrameworkRefused) {
        var problems: [FrameworkProblem] = []
        var ids: Set<String> = []
        for framework in frameworks where !ids.insert(framework.id).inserted {
            problems.append(FrameworkProblem(message: "'\(framework.id)' is the id of two frameworks", key: "id"))
        }
        for framework in frameworks {
            for mapping in framework.mappings {
                guard let target = frameworks.first(where: { $0.id == mapping.target }) else { continue }
                let known = Set(target.nodes.map(\.requirement.id))
                for link in mapping.links where !known.contains(link.to) {
                    problems.append(
                        FrameworkProblem(
                            message: "'\(link.to)' is not a requirement of \(target.id)", file: framework.id,
                            key: "mappings[\(mapping.target)].links[\(link.from)].to"))
                }
            }
        }
        guard problems.isEmpty else { throw FrameworkRefused(problems: problems) }
        self.frameworks = frameworks
    }

    public func framework(_ id: String) -> Framework? { frameworks.first { $0.id == id } }

    /// The frameworks shipped with Qila, from the module's `frameworks` folder (read once).
    public static func shipped() throws(FrameworkRefused) -> FrameworkLibrary { try shippedOnce.get() }

    private static let shippedOnce = Result { () throws(FrameworkRefused) in try readShipped() }

    private static func readShipped() throws(FrameworkRefused) -> FrameworkLibrary {
        guard let folder = Bundle.module.url(forResource: "frameworks", withExtension: nil) else {
            throw FrameworkRefused(problems: [FrameworkProblem(message: "the shipped frameworks are missing from the installation")])
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
        var frameworks: [Framework] = []
        var problems: [FrameworkProblem] = []
        for name in names {
            guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else {
                problems.append(FrameworkProblem(message: "cannot be read as UTF-8 text", file: name))
                continue
            }
            do {
                frameworks.append(try FrameworkParser.parse(text, file: name))
            } catch {
                problems += error.problems
            }
        }
        guard problems.isEmpty else { throw FrameworkRefused(problems: problems) }
        return try FrameworkLibrary(frameworks)
    }
}
