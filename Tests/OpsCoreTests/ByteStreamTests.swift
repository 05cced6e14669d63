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

    @Test func filledChunksAreLentInOrderAndMixWithCopyingReads() throws {
        let data = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        let source = try ThreadedSource(capacity: 32 << 10) { out in
            var offset = 0
            while offset < data.count {
                offset += try out.fill(upTo: 10_000) { buffer in
                    let count = min(buffer.count, data.count - offset)
                    data.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + count])) }
                    return count
                }
            }
            #expect(try out.fill(upTo: 100) { _ in 0 } == 0)  // queues nothing
            try out.finish()
        }
        var collected: [UInt8] = []
        var small = [UInt8](repeating: 0, count: 3333)
        var lendings = 0
        while true {
            if lendings % 2 == 0 {
                guard let chunk = try source.nextChunk() else { break }
                #expect(chunk.count <= 10_000)
                collected += chunk
            } else {
                let count = try small.withUnsafeMutableBytes { try source.read(into: $0) }
                if count == 0 { break }
                collected += small[0..<count]
            }
            lendings += 1
        }
        #expect(collected == data)
        #expect(try source.nextChunk() == nil)
    }

    @Test func aFailingFillEndsTheStreamWithItsErrorAfterTheChunksBefore() throws {
        let source = try ThreadedSource { out in
            try out.fill(upTo: 8) { buffer in
                buffer.copyBytes(from: [1, 2, 3])
                return 3
            }
            try out.fill(upTo: 8) { _ in throw Boom() }
        }
        #expect(try source.nextChunk().map(Array.init) == [1, 2, 3])
        #expect(throws: Boom.self) { _ = try source.nextChunk() }
    }

    @Test func copyTakesLentChunks() throws {
        let source = try ThreadedSource { out in
            for byte in UInt8(0)..<50 { try out.fill(upTo: 1000) { buffer in buffer.initializeMemory(as: UInt8.self, repeating: byte); return 1000 } }
            try out.finish()
        }
        let sink = DigestSink()
        #expect(try source.copy(to: sink) == 50_000)
        #expect(sink.byteCount == 50_000)
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
