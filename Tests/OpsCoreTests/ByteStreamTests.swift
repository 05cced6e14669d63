import OpsCore
import Testing

@Suite struct ByteStreamTests {
    @Test func threadedSourceDeliversEveryByteInOrderThroughASmallQueue() throws {
        let data = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let source = try ThreadedSource(capacity: 64 << 10) { sink in
            var offset = 0
            var step = 1
            while offset < data.count {
                let end = min(data.count, offset + step)
                try data[offset..<end].withUnsafeBytes { try sink.write($0) }
                offset = end
                step = step * 3 % 200_003 + 1
            }
            try sink.finish()
        }
        let digest = DigestSource(source)
        let read = try digest.readAll()
        #expect(read == data)
        let direct = DigestSink()
        try direct.write(data)
        try direct.finish()
        #expect(digest.finalizeHex() == direct.sha256Hex)
        #expect(direct.byteCount == data.count)
    }

    struct Boom: Error {}

    @Test func producerErrorReachesTheReaderAfterTheBytesBeforeIt() throws {
        let source = try ThreadedSource { sink in
            try sink.write([1, 2, 3])
            throw Boom()
        }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        #expect(count == 3)
        #expect(throws: Boom.self) { try buffer.withUnsafeMutableBytes { try source.read(into: $0) } }
    }

    @Test func producerThatReturnsWithoutFinishingIsAnError() throws {
        let source = try ThreadedSource { sink in try sink.write([9]) }
        #expect(throws: (any Error).self) { _ = try source.readAll() }
    }

    @Test func cancellingStopsABlockedProducer() throws {
        let source = try ThreadedSource(capacity: 1024) { sink in
            let chunk = [UInt8](repeating: 7, count: 512)
            while true { try sink.write(chunk) }
        }
        var buffer = [UInt8](repeating: 0, count: 100)
        _ = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        source.cancel() // returns only once the producer's thread ended
    }
}
