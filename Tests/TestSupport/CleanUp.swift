/// Runs `body` with `fixture`, then awaits `cleanUp(fixture)`, also when `body` threw: a clean-up left to a
/// detached task can lose the race with the test process's exit and leave containers and servers behind.
public func using<Fixture>(_ fixture: Fixture, cleanUp: (Fixture) async -> Void,
                           _ body: (Fixture) async throws -> Void) async throws {
    do {
        try await body(fixture)
    } catch {
        await cleanUp(fixture)
        throw error
    }
    await cleanUp(fixture)
}
