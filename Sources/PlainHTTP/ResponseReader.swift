#if canImport(Glibc)
import Glibc
#endif

/// Reading and parsing the response (RFC 9112): status line, headers, and the body framed by
/// `Transfer-Encoding: chunked`, `Content-Length`, or the end of the connection.
extension Transfer {
    /// Longest header or chunk-size line, and largest header section, accepted.
    static let maxLineBytes = 64 * 1024
    static let maxHeadBytes = 256 * 1024

    func readResponse() throws -> PlainHTTPResponse {
        var head = try readHead()
        // Interim responses (100 Continue, 103 Early Hints) come before the real one; 101 would switch protocols.
        while (100..<200).contains(head.status) && head.status != 101 {
            head = try readHead()
        }
        var response = PlainHTTPResponse(status: head.status, headers: head.headers)
        response.httpVersion = head.version
        let limit = request.maxResponseBytes
        if request.method == "HEAD" || (100..<200).contains(head.status) || head.status == 204 || head.status == 304 {
            return response
        }
        if let codings = response.header("transfer-encoding") {
            // Only chunked marks the end of the body; with any other (final) coding, the end of the connection does.
            if codings.split(separator: ",").last?.trimmingSpaces.lowercased() == "chunked" {
                try readChunked(into: &response, limit: limit)
            } else {
                try readToEnd(into: &response.body, limit: limit)
            }
        } else if let length = try contentLength(response.headers) {
            guard length <= limit else { throw PlainHTTPError.tooLarge(limit: limit) }
            try readExactly(length, into: &response.body)
        } else {
            try readToEnd(into: &response.body, limit: limit)
        }
        return response
    }

    // MARK: - Head

    func readHead() throws -> (status: Int, version: String, headers: [(name: String, value: String)]) {
        guard let statusLine = try readLine(what: "the status line") else {
            throw PlainHTTPError.io("the server closed the connection without answering")
        }
        let status = try parseStatusLine(statusLine)
        let headers = try readFields(what: "the response headers")
        // parseStatusLine checked `HTTP/1.<digit> `.
        return (status, "1." + String(UnicodeScalar(statusLine[statusLine.startIndex + 7])), headers)
    }

    /// `HTTP/1.1 200 OK` (the reason may be empty or missing) → 200.
    func parseStatusLine(_ line: ArraySlice<UInt8>) throws -> Int {
        let bytes = Array(line)
        let prefix = Array("HTTP/1.".utf8)
        guard bytes.count >= 12, bytes.starts(with: prefix), isDigit(bytes[7]), bytes[8] == 0x20,
              bytes[9...11].allSatisfy(isDigit), bytes.count == 12 || bytes[12] == 0x20
        else {
            throw PlainHTTPError.malformedResponse("the status line '\(printable(line))' is not HTTP/1.x")
        }
        return Int(bytes[9] - 0x30) * 100 + Int(bytes[10] - 0x30) * 10 + Int(bytes[11] - 0x30)
    }

    /// Header (or trailer) fields up to the blank line (or, with `endOfConnectionEnds`, the end of the
    /// connection), names lowercased, values trimmed.
    func readFields(what: String, endOfConnectionEnds: Bool = false) throws -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        var total = 0
        while true {
            guard let line = try readLine(what: what) else {
                if endOfConnectionEnds { return fields }
                throw PlainHTTPError.io("the server closed the connection in the middle of \(what)")
            }
            if line.isEmpty { return fields }
            total += line.count + 2
            guard total <= Self.maxHeadBytes else {
                throw PlainHTTPError.malformedResponse("\(what) are larger than \(Self.maxHeadBytes) bytes")
            }
            if line.first == 0x20 || line.first == 0x09 {
                // Obsolete line folding: a continuation of the previous field's value.
                guard !fields.isEmpty else {
                    throw PlainHTTPError.malformedResponse("\(what) start with a folded line '\(printable(line))'")
                }
                fields[fields.count - 1].value += " " + text(trimmed(line))
                continue
            }
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex,
                  line[..<colon].allSatisfy(RequestTarget.isTokenByte)
            else {
                throw PlainHTTPError.malformedResponse("the header line '\(printable(line))' is not 'Name: value'")
            }
            fields.append((name: text(line[..<colon]).lowercased(), value: text(trimmed(line[(colon + 1)...]))))
        }
    }

    /// The body length from `Content-Length`; several equal values (or `5, 5`) count as one.
    func contentLength(_ headers: [(name: String, value: String)]) throws -> Int? {
        var length: Int?
        for (name, value) in headers where name == "content-length" {
            for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = part.trimmingSpaces
                guard !digits.isEmpty, digits.utf8.count <= 18, digits.utf8.allSatisfy(isDigit), let n = Int(digits) else {
                    throw PlainHTTPError.malformedResponse("Content-Length '\(value)' is not a number")
                }
                if let length, length != n {
                    throw PlainHTTPError.malformedResponse("conflicting Content-Length values \(length) and \(n)")
                }
                length = n
            }
        }
        return length
    }

    // MARK: - Body

    func readChunked(into response: inout PlainHTTPResponse, limit: Int) throws {
        while true {
            guard let line = try readLine(what: "a chunk size") else {
                throw PlainHTTPError.io("the server closed the connection in the middle of a chunked body")
            }
            // "1a3f", "1a3f;name=value" (chunk extensions are ignored), some servers pad with spaces.
            let sizeEnd = line.firstIndex(of: 0x3B) ?? line.endIndex
            let digits = trimmed(line[..<sizeEnd])
            guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(isHexDigit), let size = Int(text(digits), radix: 16), size >= 0 else {
                throw PlainHTTPError.malformedResponse("the chunk size line '\(printable(line))' is not a hexadecimal size")
            }
            if size == 0 {
                // The body is complete; a server that closes without the final blank line lost nothing.
                response.trailers = try readFields(what: "the trailer fields", endOfConnectionEnds: true)
                return
            }
            guard size <= limit - response.body.count else { throw PlainHTTPError.tooLarge(limit: limit) }
            try readExactly(size, into: &response.body)
            guard let end = try readLine(what: "the end of a chunk"), end.isEmpty else {
                throw PlainHTTPError.malformedResponse("a chunk of \(size) bytes is not followed by CRLF")
            }
        }
    }

    /// Appends exactly `count` body bytes, from what is buffered first.
    func readExactly(_ count: Int, into body: inout [UInt8]) throws {
        body.reserveCapacity(body.count + min(count, 16 << 20))  // a huge Content-Length must not allocate up front
        var needed = count
        let buffered = min(needed, buffer.count - position)
        body += buffer[position..<(position + buffered)]
        position += buffered
        needed -= buffered
        while needed > 0 {
            let received = try receive(into: &body, atMost: needed)
            guard received > 0 else {
                throw PlainHTTPError.io("the server closed the connection \(count - needed) bytes into a body of \(count)")
            }
            needed -= received
        }
    }

    /// Appends everything until the server closes the connection.
    func readToEnd(into body: inout [UInt8], limit: Int) throws {
        body += buffer[position...]
        position = buffer.count
        while true {
            guard body.count <= limit else { throw PlainHTTPError.tooLarge(limit: limit) }
            // One byte past the limit is enough to know the body is too large.
            if try receive(into: &body, atMost: limit - body.count + 1) == 0 { return }
        }
    }

    // MARK: - Bytes

    /// The next line without its CRLF (or bare LF), or nil when the connection ended before any of it.
    func readLine(what: String) throws -> ArraySlice<UInt8>? {
        var scanned = position
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 0x0A) {
                let end = newline > position && buffer[newline - 1] == 0x0D ? newline - 1 : newline
                let line = buffer[position..<end]
                position = newline + 1
                return line
            }
            scanned = buffer.count
            guard buffer.count - position <= Self.maxLineBytes else {
                throw PlainHTTPError.malformedResponse("a line of \(what) is longer than \(Self.maxLineBytes) bytes")
            }
            // Drop what was parsed before reading more, so the buffer stays small; rescan only the new bytes.
            if position > 0 {
                buffer.removeSubrange(..<position)
                scanned -= position
                position = 0
            }
            if try receive(into: &buffer, atMost: Self.readSize) == 0 {
                if buffer.count == position { return nil }
                throw PlainHTTPError.io("the server closed the connection in the middle of \(what)")
            }
        }
    }

    /// Receives at most `atMost` bytes and appends them; 0 at the end of the connection.
    func receive(into bytes: inout [UInt8], atMost: Int) throws -> Int {
        while true {
            let received = recv(fd, scratch.baseAddress, min(atMost, scratch.count), 0)
            if received > 0 {
                if !sawFirstByte {
                    sawFirstByte = true
                    timings.firstByte = clock.now - start
                }
                bytes += UnsafeRawBufferPointer(start: scratch.baseAddress, count: received)
                return received
            }
            if received == 0 { return 0 }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try wait(fd, for: POLLIN, until: deadline)
            case ECONNRESET: throw PlainHTTPError.io("the server reset the connection before the response was complete")
            case let code: throw PlainHTTPError.io("reading the response failed (\(errorText(code)))")
            }
        }
    }
}

private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

private func isHexDigit(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x66) }

private func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

private func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var slice = bytes
    while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
    while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
    return slice
}

/// At most 60 characters of a line for a message, control characters and non-ASCII as `?`.
private func printable(_ line: ArraySlice<UInt8>) -> String {
    let shown = line.prefix(60).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }
    return String(decoding: shown, as: UTF8.self) + (line.count > 60 ? "…" : "")
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(decoding: trimmed(ArraySlice(utf8)), as: UTF8.self)
    }
}
