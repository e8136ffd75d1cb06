import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A misbehaving proxy on 127.0.0.1 for fast unit tests of the engine and classifier. It never replaces the real
/// proxies of the lab; it provokes what real proxies rarely do on demand (garbage, resets, silence).
final class FakeProxy: @unchecked Sendable {
    enum Behaviour: Sendable {
        /// Answers every request with these bytes, then closes.
        case reply(String)
        /// Answers each request with what the function returns for its head (request line and headers), then closes:
        /// a loopback web server serving recorded answers by path.
        case respond(@Sendable (String) -> String)
        /// Answers CONNECT with 200, then sends these bytes through the "tunnel" and closes.
        case connectThen(String)
        /// Reads the request, then closes with a TCP reset.
        case reset
        /// Reads and never answers (until `holdSeconds` or stop).
        case silence
        /// Sends a valid status line one byte a second for `holdSeconds`.
        case trickle
        /// Sends `head`, then `chunk` over and over until the client goes away or `holdSeconds` pass.
        case endless(head: String, chunk: String)
    }

    let behaviour: Behaviour
    let port: Int
    private let listener: Int32
    private let holdSeconds: Double

    init(_ behaviour: Behaviour, holdSeconds: Double = 8) throws {
        self.behaviour = behaviour
        self.holdSeconds = holdSeconds
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 64) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// The request heads received so far (start line and headers), in order: what a client sent, seen from this side.
    var requests: [String] { log.withLock { received } }
    private let log = NSLock()
    private var received: [String] = []

    private let countLock = NSLock()
    private var accepted = 0

    /// Connections accepted so far: what reached this proxy, counted on its side.
    var connections: Int { countLock.withLock { accepted } }

    /// Stops listening and waits (at most 5 s) until the port is closed. Only the accept thread closes the listener:
    /// closing it here raced with a thread not yet in accept(), which then accepted on whatever socket reused the
    /// descriptor number (another test's proxy) and served it with this proxy's behaviour.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        _ = closed.wait(timeout: .now() + 5)
    }

    /// Signalled once the accept thread has closed the listener.
    private let closed = DispatchSemaphore(value: 0)

    private func acceptLoop() {
        defer {
            close(listener)
            closed.signal()
        }
        // Bounded: stops when the listener is shut down, and serves at most 100,000 connections.
        for _ in 0..<100_000 {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            countLock.withLock { accepted += 1 }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func readRequest(_ fd: Int32) -> String {
        let request = readHead(fd)
        log.withLock { received.append(request) }
        return request
    }

    private func readHead(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var received = [UInt8]()
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        for _ in 0..<16 {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += buffer[0..<count]
            if String(decoding: received, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    private func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        switch behaviour {
        case .reset:
            // Reset after the request arrives: a reset during accept races with the client's connect and would
            // sometimes read as "could not connect" instead of a dropped connection.
            _ = readRequest(fd)
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        case let .reply(text):
            _ = readRequest(fd)
            send(fd, text)
        case let .respond(answer):
            send(fd, answer(readRequest(fd)))
        case let .connectThen(text):
            _ = readRequest(fd)
            send(fd, "HTTP/1.1 200 Connection established\r\n\r\n")
            if !text.isEmpty { send(fd, text) }
        case .silence:
            _ = readRequest(fd)
            waitForPeerClose(fd)
        case let .endless(head, chunk):
            _ = readRequest(fd)
            send(fd, head)
            let deadline = Date().addingTimeInterval(holdSeconds)
            // Bounded by time and by a write failing once the client has closed.
            while Date() < deadline {
                let bytes = Array(chunk.utf8)
                let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { break }
            }
        case .trickle:
            _ = readRequest(fd)
            for byte in "HTTP/1.1 200 OK\r\nX-Slow: yes\r\n".prefix(Int(holdSeconds)) {
                send(fd, String(byte))
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// Holds the connection open until the client closes it or `holdSeconds` pass.
    private func waitForPeerClose(_ fd: Int32) {
        var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&pollfd, 1, Int32(holdSeconds * 1000))
    }
}
