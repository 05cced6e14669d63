import Testing
@testable import OpsCore

@Test func versionIsSemver() {
    #expect(OpsKit.version.split(separator: ".").count == 3)
}
