import CArchive
import Testing

/// The libarchive module map and shim compile and link against the system library.
@Test func libarchiveIsReachableThroughTheShim() throws {
    let version = String(cString: try #require(opskit_archive_version()))
    #expect(version.hasPrefix("libarchive 3."))
}
