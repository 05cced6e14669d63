import FoundationEssentials
import Testing
@testable import Backup

@Suite struct BackupIDTests {
    @Test func formatsUTCStampsThatSortByTime() {
        #expect(BackupID(at: Date(timeIntervalSince1970: 1_768_874_400)).description == "backup-20260120-020000")
        #expect(BackupID(name: "pre-migration", at: Date(timeIntervalSince1970: 0)).description == "pre-migration-19700101-000000")
        #expect(BackupID(at: Date(timeIntervalSince1970: 951_782_400)).stamp == "20000229-000000")  // leap day
    }

    @Test func parsesWhatItPrints() {
        let id = BackupID(name: "pre-migration", at: Date(timeIntervalSince1970: 1_768_919_400))
        #expect(BackupID(parsing: id.description) == id)
        #expect(BackupID(parsing: "backup-2026012-020000") == nil)
        #expect(BackupID(parsing: "-20260120-020000") == nil)
        #expect(BackupID(parsing: "x-20260120-02000a") == nil)
    }

    @Test func ordersOldestFirst() {
        let a = BackupID(parsing: "zeta-20260101-000000")!, b = BackupID(parsing: "alpha-20260102-000000")!
        #expect(a < b)
    }
}
