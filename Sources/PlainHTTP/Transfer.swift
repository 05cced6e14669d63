#if canImport(Glibc)
import Glibc
#endif

/// One request on one connection, all blocking on the calling thread: look up, connect, send, read.
///
/// The socket is non-blocking; every wait is a poll against a deadline (and, for the async `send`, the
/// cancellation wake-up socket), so no phase can outlast `timeout`.
final class Transfer {
    let request: PlainHTTPRequest
    let cancel: Wakeup?
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    /// End of the whole request.
    let deadline: ContinuousClock.Instant
    /// End of lookup and connection: `connectTimeout` after the start, but never after `deadline`.
    let connectDeadline: ContinuousClock.Instant
    var fd: Int32 = -1
    var timings = PlainHTTPTimings()
    /// The peer's numeric address, or the Unix socket's path, once connected.
    var remoteAddress: String?
    var sawFirstByte = false
    /// Received bytes not yet parsed are `buffer[position...]`.
    var buffer: [UInt8] = []
    var position = 0
    let scratch: UnsafeMutableRawBufferPointer

    static let readSize = 64 * 1024

    init(_ request: PlainHTTPRequest, cancel: Wakeup?) {
        self.request = request
        self.cancel = cancel
        start = clock.now
        deadline = start + max(request.timeout, .zero)
        connectDeadline = start + max(min(request.connectTimeout, request.timeout), .zero)
        scratch = .allocate(byteCount: Self.readSize, alignment: 16)
    }

    deinit {
        scratch.deallocate()
    }

    func run() throws -> PlainHTTPResponse {
        defer {
            if fd >= 0 { close(fd) }
            fd = -1
        }
        let target = try RequestTarget.parse(request.url, unixSocket: request.unixSocket)
        var bytes = try target.head(for: request)
        if let body = request.body { bytes += body }
        try checkCancelled()
        if let path = request.unixSocket {
            try connectUnix(path)
            remoteAddress = path
        } else {
            let addresses = try resolve(target.host, port: target.port)
            timings.lookup = clock.now - start
            try connectTCP(addresses)
        }
        timings.connect = clock.now - start
        let peerClosed = try sendAll(bytes)
        var response: PlainHTTPResponse
        do {
            response = try readResponse()
        } catch let error as PlainHTTPError {
            // A server may answer early and close (a 413 to a large body); without an answer, the send failed.
            if let peerClosed, !error.isTimeout { throw peerClosed }
            throw error
        }
        timings.total = clock.now - start
        response.timings = timings
        response.remoteAddress = remoteAddress
        return response
    }

    // MARK: - Waiting

    /// The timeout error for a deadline: the connect timeout while connecting, when it is the shorter one.
    func timedOut(connecting: Bool) -> PlainHTTPError {
        connecting && request.connectTimeout < request.timeout
            ? .timedOut(after: request.connectTimeout) : .timedOut(after: request.timeout)
    }

    func checkCancelled() throws {
        if let cancel, cancel.isSignalled { throw CancellationError() }
    }

    /// Waits until `fd` is ready for `events` (or has an error or hang-up to report), the deadline passes
    /// (`timedOut`), or the task is cancelled (`CancellationError`).
    func wait(_ fd: Int32, for events: Int32, until deadline: ContinuousClock.Instant, connecting: Bool = false) throws {
        var fds = (pollfd(fd: fd, events: Int16(events), revents: 0),
                   pollfd(fd: cancel?.readFD ?? -1, events: Int16(POLLIN), revents: 0))
        let count: nfds_t = cancel == nil ? 1 : 2
        while true {
            let left = (deadline - clock.now).wholeMilliseconds
            guard left > 0 else { throw timedOut(connecting: connecting) }
            fds.0.revents = 0
            fds.1.revents = 0
            let ready = withUnsafeMutablePointer(to: &fds) { pointer in
                pointer.withMemoryRebound(to: pollfd.self, capacity: 2) { poll($0, count, Int32(min(left, 60_000))) }
            }
            if ready < 0 {
                if errno == EINTR { continue }
                throw PlainHTTPError.io("poll failed: \(errorText(errno))")
            }
            if fds.1.revents != 0 { throw CancellationError() }
            if fds.0.revents != 0 { return }
        }
    }

    /// Sleeps for `duration`, or until the deadline (`timedOut`) or cancellation.
    func pause(_ duration: Duration, connecting: Bool) throws {
        let end = clock.now + duration
        let limit = connecting ? connectDeadline : deadline
        while true {
            let now = clock.now
            guard now < limit else { throw timedOut(connecting: connecting) }
            let left = (min(end, limit) - now).wholeMilliseconds
            guard left > 0 else { return }
            var fd = pollfd(fd: cancel?.readFD ?? -1, events: Int16(POLLIN), revents: 0)
            if poll(&fd, 1, Int32(left)) > 0 { throw CancellationError() }
        }
    }

    // MARK: - Connecting

    func resolve(_ host: String, port: Int) throws -> [SocketAddress] {
        if let addresses = Resolver.numeric(host, port: port) { return addresses }
        let pending = try Resolver.start(host, port: port)
        while true {
            if let outcome = pending.outcome { return try Resolver.addresses(outcome, host: host) }
            try wait(pending.done.readFD, for: POLLIN, until: connectDeadline, connecting: true)
        }
    }

    /// Tries each address in turn; the last failure when none accepts.
    func connectTCP(_ addresses: [SocketAddress]) throws {
        var lastError: PlainHTTPError?
        for address in addresses {
            let socketFD = socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard socketFD >= 0 else {
                lastError = .io("could not create a socket (\(errorText(errno)))")
                continue
            }
            fd = socketFD
            var storage = address.storage
            let code = try connect(&storage, length: address.length)
            if code == 0 {
                remoteAddress = address.host
                return
            }
            close(fd)
            fd = -1
            lastError = switch code {
            case ECONNREFUSED: .connectionRefused(address.description)
            case EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN:
                .io("cannot reach \(address.description) (\(errorText(code))): check the address and the network")
            default: .io("could not connect to \(address.description) (\(errorText(code)))")
            }
        }
        throw lastError ?? .couldNotResolve(host: "?")
    }

    func connectUnix(_ path: String) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity, !pathBytes.contains(0) else {
            throw PlainHTTPError.invalidRequest("Unix socket path '\(path)' is empty or longer than \(capacity - 1) bytes: use a shorter path")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PlainHTTPError.io("could not create a socket (\(errorText(errno)))") }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + pathBytes.count + 1)
        let code = try connect(&address, length: length)
        switch code {
        case 0: return
        case ENOENT, ENOTDIR: throw PlainHTTPError.noSuchSocket(path: path)
        case EACCES, EPERM: throw PlainHTTPError.permissionDenied(path: path)
        case ECONNREFUSED: throw PlainHTTPError.connectionRefused(path)
        default: throw PlainHTTPError.io("could not connect to the Unix socket \(path) (\(errorText(code)))")
        }
    }

    /// connect(2) on the non-blocking `fd`, waiting for completion until the connect deadline; 0 or an errno.
    func connect<Address>(_ address: inout Address, length: socklen_t) throws -> Int32 {
        while true {
            let result = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
            }
            if result == 0 { return 0 }
            switch errno {
            case EINPROGRESS, EINTR:
                // In progress (EINTR too: the connection goes on in the background); done when writable.
                try wait(fd, for: POLLOUT, until: connectDeadline, connecting: true)
                var error: Int32 = 0
                var size = socklen_t(MemoryLayout<Int32>.size)
                guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 else { return errno }
                return error
            case EAGAIN:
                // A Unix socket whose listen backlog is full: try again shortly.
                try pause(.milliseconds(5), connecting: true)
            case let code:
                return code
            }
        }
    }

    // MARK: - Sending

    /// Sends everything; nil, or the error when the peer stopped reading (it may still have answered).
    func sendAll(_ bytes: [UInt8]) throws -> PlainHTTPError? {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent >= 0 {
                offset += sent
                continue
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try wait(fd, for: POLLOUT, until: deadline)
            case EPIPE, ECONNRESET: return .io("the server closed the connection while the request was being sent")
            case let code: throw PlainHTTPError.io("sending the request failed (\(errorText(code)))")
            }
        }
        return nil
    }
}

extension PlainHTTPError {
    var isTimeout: Bool {
        if case .timedOut = self { true } else { false }
    }
}
