import Foundation

/// Turns allow-list endpoints into concrete URLs to probe.
///
/// - `host` becomes `https://host/` for port 443, `http://host/` for port 80, `https://host:port/` otherwise,
///   unless the endpoint names its scheme.
/// - A wildcard is probed through its sample hosts, or else through a synthesized name under its fixed
///   domain (`proxyvet-probe.manage.microsoft.com`), marked as a policy probe.
/// - `<tenant>` placeholders take `tenant`; without it the entry is skipped with the reason.
/// - Targets are deduplicated by URL, keeping every list and service that requires them.
public struct TargetPlanner: Sendable {
    /// The label used for synthesized names under wildcards.
    public static let probeLabel = "proxyvet-probe"

    public var tenant: String?

    public init(tenant: String? = nil) { self.tenant = tenant }

    public func plan(_ lists: [AllowList]) -> TargetPlan {
        var byURL: [String: ProbeTarget] = [:]
        var order: [String] = []
        var skipped: [SkippedEntry] = []
        for list in lists {
            for service in list.services {
                for endpoint in service.endpoints {
                    let requirement = Requirement(list: list.id, service: service.name, entry: endpoint.host)
                    let hosts: [(name: String, policyProbe: Bool)]
                    switch names(for: endpoint) {
                    case let .failure(reason):
                        skipped.append(SkippedEntry(list: list.id, service: service.name, entry: endpoint.host, reason: reason.text))
                        continue
                    case let .success(found):
                        hosts = found
                    }
                    for host in hosts {
                        for port in endpoint.ports {
                            let scheme = endpoint.scheme ?? (port == 80 ? "http" : "https")
                            let defaultPort = scheme == "http" ? 80 : 443
                            let authority = port == defaultPort ? host.name : "\(host.name):\(port)"
                            let url = "\(scheme)://\(authority)\(endpoint.path)"
                            let tags = list.tags(for: endpoint, probedHost: host.name)
                            if var existing = byURL[url] {
                                if !existing.requiredBy.contains(requirement) { existing.requiredBy.append(requirement) }
                                existing.required = existing.required || endpoint.required
                                existing.policy = Array(Set(existing.policy).union(tags)).sorted()
                                existing.policyProbe = existing.policyProbe && host.policyProbe
                                existing.expectedIssuers = Array(Set(existing.expectedIssuers + list.expectedIssuers)).sorted()
                                byURL[url] = existing
                            } else {
                                order.append(url)
                                var target = ProbeTarget(url: url, scheme: scheme, host: host.name, port: port,
                                                         requiredBy: [requirement], required: endpoint.required,
                                                         policy: tags, policyProbe: host.policyProbe)
                                target.expectedIssuers = list.expectedIssuers
                                byURL[url] = target
                            }
                        }
                    }
                }
            }
        }
        let targets = order.compactMap { byURL[$0] }.map { target -> ProbeTarget in
            var target = target
            target.requiredBy.sort()
            return target
        }
        return TargetPlan(targets: targets, skipped: skipped)
    }

    private struct SkipReason: Error { let text: String }

    private func names(for endpoint: Endpoint) -> Result<[(name: String, policyProbe: Bool)], SkipReason> {
        var host = endpoint.host
        if let open = host.firstIndex(of: "<"), let close = host[open...].firstIndex(of: ">") {
            let placeholder = String(host[host.index(after: open)..<close])
            guard placeholder == "tenant" else {
                return .failure(SkipReason(text: "unknown placeholder <\(placeholder)> in \(endpoint.host)"))
            }
            guard let tenant else {
                return .failure(SkipReason(text: "needs your tenant name: run with --tenant NAME to probe \(endpoint.host)"))
            }
            host.replaceSubrange(open...close, with: tenant.lowercased())
        }
        guard host.contains("*") else { return .success([(host, false)]) }
        if !endpoint.samples.isEmpty { return .success(endpoint.samples.map { ($0, false) }) }
        let pattern = HostPattern(host)
        let base = pattern.baseDomain
        guard base.contains(".") else {
            return .failure(SkipReason(text: "wildcard \(endpoint.host) has no fixed domain to probe under"))
        }
        // Fill every wildcard label so the name is covered by the pattern (`*cdn.onenote.net` → `proxyvet-probecdn.onenote.net`).
        let labels = host.split(separator: ".").map { $0.replacingOccurrences(of: "*", with: Self.probeLabel) }
        return .success([(labels.joined(separator: "."), true)])
    }
}
