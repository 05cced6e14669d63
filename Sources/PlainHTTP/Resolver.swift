#if canImport(Glibc)
import Glibc
#endif

/// One address to connect to, copied out of getaddrinfo's list.
struct SocketAddress: Sendable {
    var storage: sockaddr_storage
    var length: socklen_t
    var family: Int32 { Int32(storage.ss_family) }

    /// `127.0.0.1:8080`, `[::1]:8080`.
    var description: String {
        let (h, s) = numeric
        return family == AF_INET6 ? "[\(h)]:\(s)" : "\(h):\(s)"
    }

    /// The address alone, as curl reports a peer: `127.0.0.1`, `::1`.
    var host: String { numeric.host }

    private var numeric: (host: String, service: String) {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        var copy = storage
        let result = withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &service, socklen_t(service.count),
                            NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard result == 0 else { return ("?", "?") }
        let h = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let s = String(decoding: service.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (h, s)
    }
}

/// Host name to addresses. Numeric addresses are parsed on the calling thread; names are looked up on a
/// thread of their own, because getaddrinfo has no timeout and a dead DNS server would hold it for many
/// seconds. The caller waits only until its deadline; a late lookup finishes and is thrown away.
enum Resolver {
    enum Outcome: Sendable {
        case found([SocketAddress])
        /// getaddrinfo's EAI_* code, and errno for EAI_SYSTEM.
        case failed(code: Int32, errno: Int32)
    }

    /// The addresses of a numeric IPv4 or IPv6 host, or nil when `host` is a name.
    static func numeric(_ host: String, port: Int) -> [SocketAddress]? {
        if case .found(let addresses) = lookup(host, port: port, flags: AI_NUMERICHOST) { return addresses }
        return nil
    }

    /// getaddrinfo for TCP; blocks.
    static func lookup(_ host: String, port: Int, flags: Int32 = 0) -> Outcome {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = flags | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, String(port), &hints, &list)
        guard code == 0 else { return .failed(code: code, errno: errno) }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry = list
        while let info = entry?.pointee {
            if let address = info.ai_addr, Int(info.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(info.ai_addrlen))) }
                addresses.append(SocketAddress(storage: storage, length: info.ai_addrlen))
            }
            entry = info.ai_next
        }
        return addresses.isEmpty ? .failed(code: EAI_NONAME, errno: 0) : .found(addresses)
    }

    /// The outcome of a lookup running on another thread, and the socket pair that says it is there.
    ///
    /// A pthread mutex guards the outcome rather than Synchronization's `Mutex`: that module is one more
    /// shared library for a lean executable to load at start-up.
    final class Pending: @unchecked Sendable {
        let done: Wakeup
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>
        private var stored: Outcome?

        init() throws(PlainHTTPError) {
            done = try Wakeup()
            mutex = .allocate(capacity: 1)
            mutex.initialize(to: pthread_mutex_t())
            pthread_mutex_init(mutex, nil)
        }

        deinit {
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
        }

        var outcome: Outcome? {
            get {
                pthread_mutex_lock(mutex)
                defer { pthread_mutex_unlock(mutex) }
                return stored
            }
            set {
                pthread_mutex_lock(mutex)
                defer { pthread_mutex_unlock(mutex) }
                stored = newValue
            }
        }
    }

    /// Starts looking `host` up on a thread of its own; poll `done.readFD`, then read `outcome`.
    static func start(_ host: String, port: Int) throws(PlainHTTPError) -> Pending {
        let pending = try Pending()
        let code = DetachedThread.start {
            let outcome = lookup(host, port: port)
            pending.outcome = outcome
            pending.done.signal()
        }
        guard code == 0 else {
            throw .io("could not start a thread for the name lookup (\(errorText(code))): the system is out of threads or memory")
        }
        return pending
    }

    /// The addresses, or the error a failed lookup means.
    static func addresses(_ outcome: Outcome, host: String) throws(PlainHTTPError) -> [SocketAddress] {
        switch outcome {
        case .found(let addresses):
            return addresses
        case .failed(let code, let errnoValue) where code == EAI_SYSTEM:
            throw .io("name lookup for '\(host)' failed: \(errorText(errnoValue))")
        case .failed(let code, _) where code == EAI_MEMORY:
            throw .io("name lookup for '\(host)' ran out of memory")
        case .failed:
            // EAI_NONAME, EAI_AGAIN (no DNS answer), EAI_FAIL, EAI_NODATA, a family without addresses.
            throw .couldNotResolve(host: host)
        }
    }
}
