import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The IPv4 address plumbing the tests' own loopback clients and servers share.
enum LoopbackSocket {
    /// Calls `body` (bind or connect) with `host:port` as a `sockaddr`.
    static func withAddress<T>(host: String, port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}
