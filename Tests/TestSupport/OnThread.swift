import OpsCore

/// Runs blocking code (`HTTPClient.sendBlocking`, the backup stores) on a thread of its own, as the backup
/// pipeline does, instead of holding one of the test pool's few threads; the result comes back by await.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await OwnThread.run(body)
}
