import Foundation

/// The address a PAC's `myIpAddress()` returns: the client's IPv4 address at one site.
///
/// Corporate PACs branch on it (`isInNet(myIpAddress(), "10.20.0.0", "255.255.0.0")`), so one PAC routes each site
/// differently. ProxyVet never looks it up: it is given (`--client-ip`) or 127.0.0.1.
public struct ClientAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The dotted quad, canonical (no leading zeros).
    public let text: String

    /// What `myIpAddress()` returns unless told otherwise: the loopback address, so nothing is looked up.
    public static let loopback = ClientAddress(checked: "127.0.0.1")

    private init(checked text: String) { self.text = text }

    /// Parses an IPv4 dotted quad (`10.20.30.40`); `option` names where it came from in the error.
    public init(parsing text: String, option: String = "--client-ip") throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let valid = parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber }
                && (part == "0" || part.first != "0") && (Int(part) ?? 256) <= 255
        }
        guard valid else {
            throw InputError("\(option) \"\(text)\": not an IPv4 address; myIpAddress() returns a dotted quad such as 10.20.30.40")
        }
        self.text = text
    }

    public var description: String { text }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text, option: "client address") } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
