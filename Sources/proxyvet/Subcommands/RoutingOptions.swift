import ArgumentParser
import Foundation
import ProxyVetKit

/// Where devices get their routing from, shared by `route` and `check`: the PAC and the site's client address.
struct RoutingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The PAC devices use, a file or an http(s) URL: the same as pac: in a config (not both).", valueName: "file|url"))
    var pac: String?

    @Option(name: .customLong("client-ip"), help: ArgumentHelp("What the PAC's myIpAddress() returns: the client's IPv4 address at a site (default 127.0.0.1). route: repeatable, one column a site; check: one, the site the check runs for.", valueName: "addr"))
    var clientIP: [String] = []

    func validate() throws {
        do { _ = try clientAddresses() } catch let error as InputError { throw ValidationError(error.message + ".") }
        if let pac, pac.isEmpty { throw ValidationError("--pac takes a PAC file or an http(s) URL.") }
    }

    /// The `--client-ip` addresses, checked, in the order given, each once.
    func clientAddresses() throws -> [ClientAddress] {
        var seen = Set<ClientAddress>()
        return try clientIP.map { try ClientAddress(parsing: $0) }.filter { seen.insert($0).inserted }
    }
}
