import Foundation

/// Collects imported entries into services in source order, merging a host listed twice in one service and
/// recording every correction, so importers share one set of rules.
struct ListBuilder {
    private(set) var services: [Service] = []
    private var serviceIndex: [String: Int] = [:]
    /// Per service: endpoint key (host, scheme, path) → index in the service's endpoints.
    private var endpointIndex: [String: [String: Int]] = [:]
    var corrections: [Correction] = []

    /// Declares a service (first declaration wins); entries added later go to it.
    mutating func declare(_ service: Service) {
        guard serviceIndex[service.name] == nil else { return }
        serviceIndex[service.name] = services.count
        services.append(Service(name: service.name, table: service.table, notes: service.notes, endpoints: []))
        services[services.count - 1].endpointSet = service.endpointSet
        endpointIndex[service.name] = [:]
    }

    /// Adds an endpoint to a service (declared on first use), merging it into an earlier one for the same host.
    mutating func add(_ endpoint: Endpoint, to serviceName: String, original: String) {
        declare(Service(name: serviceName, endpoints: []))
        guard let at = serviceIndex[serviceName] else { return }
        let key = "\(endpoint.host) \(endpoint.scheme ?? "") \(endpoint.path)"
        if let existing = endpointIndex[serviceName]?[key] {
            let before = services[at].endpoints[existing]
            // One row per port is how CSV files list several ports: a row that adds a port is no duplicate.
            let addsNothing = Set(endpoint.ports).isSubset(of: before.ports) && Set(endpoint.udpPorts).isSubset(of: before.udpPorts)
                && Set(endpoint.portRanges).isSubset(of: before.portRanges)
            var merged = before
            merged.ports = Self.union(merged.ports, endpoint.ports)
            merged.portRanges = Self.union(merged.portRanges, endpoint.portRanges)
            merged.udpPorts = Self.union(merged.udpPorts, endpoint.udpPorts)
            merged.tags = Array(Set(merged.tags).union(endpoint.tags)).sorted()
            merged.required = merged.required || endpoint.required
            if let notes = endpoint.notes, merged.notes != notes {
                merged.notes = [merged.notes, notes].compactMap { $0 }.joined(separator: " ")
            }
            services[at].endpoints[existing] = merged
            if addsNothing {
                corrections.append(Correction(kind: .duplicateInService, service: serviceName, original: original,
                                              result: merged.host, line: endpoint.line))
            }
            return
        }
        endpointIndex[serviceName]?[key] = services[at].endpoints.count
        services[at].endpoints.append(endpoint)
    }

    /// Adds IP address ranges to a service, with the ports they are published with.
    mutating func addAddresses(_ ranges: [String], ports: [PortRange], udpPorts: [PortRange], to serviceName: String, line: Int?) {
        declare(Service(name: serviceName, endpoints: []))
        guard let at = serviceIndex[serviceName], !ranges.isEmpty else { return }
        var block = services[at].addresses ?? AddressBlock(ranges: [], line: line)
        for range in ranges where !block.ranges.contains(range) { block.ranges.append(range) }
        block.ports = Self.union(block.ports, ports)
        block.udpPorts = Self.union(block.udpPorts, udpPorts)
        services[at].addresses = block
    }

    /// Records what cleaning a cell changed.
    mutating func record(_ kinds: [Correction.Kind], service: String, original: String, result: String, line: Int?) {
        for kind in kinds {
            corrections.append(Correction(kind: kind, service: service, original: original, result: result, line: line))
        }
    }

    /// Elements of `a`, then the new ones of `b`, in order.
    static func union<T: Equatable>(_ a: [T], _ b: [T]) -> [T] {
        var result = a
        for element in b where !result.contains(element) { result.append(element) }
        return result
    }
}
