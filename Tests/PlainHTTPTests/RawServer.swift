#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TestSupport

/// A tiny TCP server on a thread of its own that answers every connection with hand-made bytes, for the
/// responses nginx never sends: chunk extensions and trailers, interim 100s, broken framing, stalls.
final class RawServer: Sendable {
    enum Step: Sendable {
        /// Writes these bytes at once.
        case send(String)
        /// Writes these bytes one `send` at a time (with TCP_NODELAY), so the client sees them in pieces.
        case trickle(String)
        /// Sleeps, keeping the connection open.
        case pause(Duration)
    }

    let port: Int
    /// `127.0.0.1:port` or `[::1]:port`, for URLs.
    let authority: String
    private let listener: Int32
    /// Every request the server read, head and body, as text.
    let requests = Mutex<[String]>([])

    /// Starts listening on a free loopback port (IPv6 `::1` with `ipv6`); every connection gets `steps`,
    /// then is closed.
    init(ipv6: Bool = false, _ steps: [Step]) throws {
        let family = ipv6 ? AF_INET6 : AF_INET
        let listener = socket(family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        self.listener = listener
        guard listener >= 0 else { throw TestSupportError("socket failed: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var bound: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_addr = in6addr_loopback
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw TestSupportError("bind/listen failed: errno \(errno)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let portBigEndian = withUnsafeBytes(of: &storage) { raw in raw.load(fromByteOffset: 2, as: UInt16.self) }
        port = Int(UInt16(bigEndian: portBigEndian))
        authority = ipv6 ? "[::1]:\(port)" : "127.0.0.1:\(port)"
        startThread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                if connection < 0 {
                    if errno == EINTR { continue }
                    return  // stop() shut the listener down
                }
                serve(connection, steps)
                close(connection)
            }
        }
    }

    func url(_ path: String) -> String { "http://\(authority)\(path)" }

    /// Stops accepting; a connection being served finishes its steps.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve(_ connection: Int32, _ steps: [Step]) {
        requests.withLock { $0.append(readRequest(connection)) }
        for step in steps {
            switch step {
            case .send(let text):
                writeAll(connection, Array(text.utf8))
            case .trickle(let text):
                var one: Int32 = 1
                setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                for byte in text.utf8 { writeAll(connection, [byte]) }
            case .pause(let duration):
                let (seconds, atto) = duration.components
                usleep(UInt32(seconds * 1_000_000 + atto / 1_000_000_000_000))
            }
        }
    }

    /// The request head and, by its Content-Length, its body.
    private func readRequest(_ connection: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var needed: Int?
        while true {
            if needed == nil, let end = headEnd(bytes) {
                let head = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingPrefix(" ")) } ?? 0
                needed = end + length
            }
            if let needed, bytes.count >= needed { break }
            let n = recv(connection, &chunk, chunk.count, 0)
            if n <= 0 { break }
            bytes += chunk[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    private func writeAll(_ connection: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(connection, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }  // the client went away (it timed out or saw enough)
            offset += n
        }
    }
}

/// Runs `body` on a detached pthread (the server's accept loop blocks; it must not hold a pool thread).
private func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    var thread = pthread_t()
    let result = pthread_create(&thread, &attributes, { raw in
        if let raw { Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body() }
        return nil
    }, context)
    pthread_attr_destroy(&attributes)
    precondition(result == 0, "pthread_create failed: \(result)")
}

/// A raw response with CRLF line ends written as `\n` in the source.
func crlf(_ text: String) -> String {
    text.replacing("\n", with: "\r\n")
}

/// A listener that never accepts, with its accept queue filled: the kernel drops further SYNs, so a new
/// connection attempt hangs until the client's connect timeout.
final class FullListener {
    let port: Int
    private var fds: [Int32] = []

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw TestSupportError("socket failed: errno \(errno)") }
        fds.append(listener)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        guard bound == 0, listen(listener, 0) == 0 else { throw TestSupportError("bind/listen failed: errno \(errno)") }
        var actual = sockaddr_in()
        var actualLength = length
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &actualLength) }
        }
        port = Int(UInt16(bigEndian: actual.sin_port))
        address.sin_port = actual.sin_port
        // Backlog 0 holds one established connection; fill it (and one more in flight) without accepting.
        for _ in 0..<2 {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
            fds.append(client)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) } }
        }
        usleep(50_000)  // let the handshakes of the filling connections finish
    }

    deinit { fds.forEach { close($0) } }
}
