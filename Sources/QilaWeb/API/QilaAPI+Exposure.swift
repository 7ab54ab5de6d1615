import Foundation
import OpenAPIRuntime
import QilaAccess
import QilaCore
import QilaStore
import QilaVulnerabilities

/// Inventories and exposure over the API: thin adapters over `ExposureDesk`.
extension QilaAPI {
    var exposureDesk: ExposureDesk { ExposureDesk(store: store, audit: installation.audit, policy: installation.policy) }

    func exposureOrganisation(_ text: String) async throws -> Organisation {
        guard let id = OrganisationID(text), let organisation = try await store.organisation(id) else { throw Problem(.notFound, "no such organisation") }
        return organisation
    }

    static func inventoryBody(_ inventory: InventoryRecord) -> Components.Schemas.Inventory {
        .init(id: inventory.id, name: inventory.name, format: inventory.format, components: inventory.components, importedAt: inventory.importedAt)
    }

    func listInventories(_ input: Operations.ListInventories.Input) async throws -> Operations.ListInventories.Output {
        let (subject, _, _) = try caller()
        let organisation = try await exposureOrganisation(input.path.organisationId)
        return .ok(.init(body: .json(try await exposureDesk.inventories(of: organisation, for: subject, gate: caseGate()).map(Self.inventoryBody))))
    }

    func importInventory(_ input: Operations.ImportInventory.Input) async throws -> Operations.ImportInventory.Output {
        let (subject, _, _) = try caller()
        let organisation = try await exposureOrganisation(input.path.organisationId)
        guard case .binary(let body) = input.body else { throw Problem(.unsupportedMediaType, "send the file as application/octet-stream") }
        let limit = 64 << 20
        let bytes: [UInt8]
        do {
            bytes = try await [UInt8](collecting: body, upTo: limit)
        } catch {
            throw Problem(.contentTooLarge, "the file is larger than the \(limit) bytes accepted", location: "body")
        }
        let summary = try await exposureDesk.importInventory(
            Data(bytes), file: input.query.name, name: input.query.name, organisation: organisation, by: subject, gate: caseGate())
        return .created(.init(body: .json(.init(inventory: Self.inventoryBody(summary.inventory), exposures: summary.exposures))))
    }

    func listExposure(_ input: Operations.ListExposure.Input) async throws -> Operations.ListExposure.Output {
        let (subject, _, _) = try caller()
        let organisation = try await exposureOrganisation(input.path.organisationId)
        let today = CivilDay(Date())
        let exposures = try await exposureDesk.exposure(of: organisation, for: subject, gate: caseGate())
        return .ok(
            .init(
                body: .json(
                    exposures.map { exposure in
                        Components.Schemas.Exposure(
                            kind: exposure.target.kind == .kev ? .kev : .advisory, reference: exposure.target.reference, cve: exposure.target.cve,
                            title: exposure.target.title, componentKey: exposure.componentKey, vendor: exposure.component.vendor, component: exposure.component.name,
                            version: exposure.component.version, cpe: exposure.component.cpe, purl: exposure.component.purl, due: exposure.due?.description,
                            status: Components.Schemas.ExposureStatus(rawValue: exposure.status.rawValue) ?? .open, overdue: exposure.isOverdue(on: today),
                            approximate: exposure.approximate, basis: Components.Schemas.Exposure.BasisPayload(rawValue: exposure.basis) ?? .name,
                            justification: exposure.statement?.justification, note: exposure.statement?.note)
                    })))
    }

    func stateExposure(_ input: Operations.StateExposure.Input) async throws -> Operations.StateExposure.Output {
        let (subject, _, _) = try caller()
        let organisation = try await exposureOrganisation(input.path.organisationId)
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        let statement = try await exposureDesk.state(
            organisation: organisation, component: body.componentKey, kind: body.kind.rawValue, reference: body.reference, status: body.status.rawValue,
            justification: body.justification?.rawValue ?? "", note: body.note ?? "", by: subject, gate: caseGate())
        return .ok(
            .init(
                body: .json(
                    .init(
                        componentKey: statement.component, kind: statement.kind, reference: statement.reference,
                        status: Components.Schemas.ExposureStatus(rawValue: statement.status) ?? .open, justification: statement.justification, note: statement.note,
                        statedAt: statement.statedAt))))
    }
}
