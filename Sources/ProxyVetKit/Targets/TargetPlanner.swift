import Foundation

/// Turns allow-list endpoints into concrete URLs to probe.
///
/// - `host` becomes `https://host/` for port 443, `http://host/` for port 80, `https://host:port/` otherwise,
///   unless the endpoint names its scheme.
/// - A wildcard is probed through its sample hosts, or else through a synthesized name under its fixed
///   domain (`proxyvet-probe.manage.microsoft.com`), marked as a policy probe.
/// - `<tenant>` placeholders take `tenant`; without it the entry is skipped with the reason.
/// - Targets are deduplicated by URL, keeping every list and service that requires them.
/// - What a proxy probe cannot cover is listed as skipped with the reason, never dropped: UDP ports, TCP ports of
///   protocols that are not HTTP (SMTP 25/587, IMAP 143/993, POP3 995...) unless the endpoint names its scheme,
///   TCP port ranges, and IP address ranges (firewall / direct-egress requirements).
public struct TargetPlanner: Sendable {
    /// The label used for synthesized names under wildcards.
    public static let probeLabel = "proxyvet-probe"

    public var tenant: String?

    public init(tenant: String? = nil) { self.tenant = tenant }

    /// TCP ports of protocols that are not HTTP: an HTTP proxy cannot probe them (`CONNECT` to them is refused by
    /// default, and a tunnel would not tell whether the service answers).
    public static let nonHTTPPorts: [Int: String] = [
        21: "FTP", 22: "SSH", 25: "SMTP", 53: "DNS", 110: "POP3", 123: "NTP", 143: "IMAP", 389: "LDAP", 445: "SMB",
        465: "SMTP over TLS", 587: "SMTP submission", 636: "LDAP over TLS", 993: "IMAP over TLS", 995: "POP3 over TLS",
        3389: "RDP", 3478: "STUN/TURN", 3479: "STUN/TURN", 3480: "STUN/TURN", 3481: "STUN/TURN",
    ]

    /// `443, 80` or `3478-3481`.
    static func text(_ ports: [PortRange]) -> String { ports.map(\.description).joined(separator: ", ") }

    public func plan(_ lists: [AllowList]) -> TargetPlan {
        var byURL: [String: ProbeTarget] = [:]
        var order: [String] = []
        var skipped: [SkippedEntry] = []
        for list in lists {
            for service in list.services {
                if let addresses = service.addresses {
                    var ports: [String] = []
                    if !addresses.ports.isEmpty { ports.append("TCP " + Self.text(addresses.ports)) }
                    if !addresses.udpPorts.isEmpty { ports.append("UDP " + Self.text(addresses.udpPorts)) }
                    let portText = ports.isEmpty ? "" : " (\(ports.joined(separator: "; ")))"
                    for range in addresses.ranges {
                        skipped.append(SkippedEntry(list: list.id, service: service.name, entry: range,
                                                    reason: "IP range\(portText): a proxy is asked for names, not addresses; allow it on the firewall for direct egress",
                                                    kind: .addressRange))
                    }
                }
                // The endpoint set's category reaches every target of the service, so analysis sees Optimize traffic.
                let categories = service.endpointSet?.category.map { [$0] } ?? []
                let minTLS = list.minTLS(for: service)
                let minTLSBy = minTLS.map { _ in service.minTLS == nil ? [list.name] : ["\(list.name) (\(service.name))"] } ?? []
                for var endpoint in service.endpoints {
                    let requirement = Requirement(list: list.id, service: service.name, entry: endpoint.host)
                    func skip(_ kind: SkipKind, _ reason: String) {
                        skipped.append(SkippedEntry(list: list.id, service: service.name, entry: endpoint.host, reason: reason, kind: kind))
                    }
                    for port in endpoint.ports where endpoint.scheme == nil {
                        if let name = Self.nonHTTPPorts[port] {
                            skip(.nonHTTPPort, "TCP \(port) (\(name)) is not HTTP: not probeable through an HTTP proxy; allow it on the firewall for direct egress")
                        }
                    }
                    if endpoint.scheme == nil { endpoint.ports.removeAll { Self.nonHTTPPorts[$0] != nil } }
                    if !endpoint.portRanges.isEmpty {
                        skip(.portRange, "TCP \(Self.text(endpoint.portRanges)): a port range is a firewall requirement, not probed port by port")
                    }
                    if !endpoint.udpPorts.isEmpty {
                        skip(.udp, "UDP \(Self.text(endpoint.udpPorts)): an HTTP proxy carries TCP only; allow it on the firewall for direct egress")
                    }
                    guard !endpoint.ports.isEmpty else { continue }
                    let hosts: [(name: String, policyProbe: Bool)]
                    switch names(for: endpoint) {
                    case let .failure(reason):
                        skip(reason.kind, reason.text)
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
                                // The oldest version wins, named by the lists and services that set it.
                                if let minTLS, existing.minTLS.map({ minTLS <= $0 }) ?? true {
                                    existing.minTLSBy = Array(Set((existing.minTLS == minTLS ? existing.minTLSBy : []) + minTLSBy)).sorted()
                                    existing.minTLS = minTLS
                                }
                                existing.categories = Array(Set(existing.categories + categories)).sorted()
                                byURL[url] = existing
                            } else {
                                order.append(url)
                                var target = ProbeTarget(url: url, scheme: scheme, host: host.name, port: port,
                                                         requiredBy: [requirement], required: endpoint.required,
                                                         policy: tags, policyProbe: host.policyProbe)
                                target.expectedIssuers = list.expectedIssuers
                                target.minTLS = minTLS
                                target.minTLSBy = minTLSBy
                                target.categories = categories
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

    private struct SkipReason: Error {
        let kind: SkipKind
        let text: String
    }

    private func names(for endpoint: Endpoint) -> Result<[(name: String, policyProbe: Bool)], SkipReason> {
        var host = endpoint.host
        if let open = host.firstIndex(of: "<"), let close = host[open...].firstIndex(of: ">") {
            let placeholder = String(host[host.index(after: open)..<close])
            guard placeholder == "tenant" else {
                return .failure(SkipReason(kind: .unknownPlaceholder, text: "unknown placeholder <\(placeholder)> in \(endpoint.host)"))
            }
            guard let tenant else {
                return .failure(SkipReason(kind: .tenantPlaceholder, text: "needs your tenant name: run with --tenant NAME to probe \(endpoint.host)"))
            }
            host.replaceSubrange(open...close, with: tenant.lowercased())
        }
        guard host.contains("*") else { return .success([(host, false)]) }
        if !endpoint.samples.isEmpty { return .success(endpoint.samples.map { ($0, false) }) }
        let pattern = HostPattern(host)
        let base = pattern.baseDomain
        guard base.contains(".") else {
            return .failure(SkipReason(kind: .noFixedDomain, text: "wildcard \(endpoint.host) has no fixed domain to probe under"))
        }
        // Fill every wildcard label so the name is covered by the pattern (`*cdn.onenote.net` → `proxyvet-probecdn.onenote.net`).
        let labels = host.split(separator: ".").map { $0.replacingOccurrences(of: "*", with: Self.probeLabel) }
        return .success([(labels.joined(separator: "."), true)])
    }
}
