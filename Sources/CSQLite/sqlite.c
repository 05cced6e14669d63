// libsqlite3 on first use; see CLazyLoad.h. Each function Swift calls, with SQLite's own prototype (checked by
// the compiler against <sqlite3.h>). sqlite3_open_v2 answers SQLITE_CANTOPEN when the library is missing, and
// the Swift wrapper asks opskit_sqlite_unavailable() first; the rest is only reached after an open succeeded.
#include "CSQLite.h"
#include "CLazyLoad.h"

#define FUNCTIONS(X) \
    X(sqlite3_backup_finish) X(sqlite3_backup_init) X(sqlite3_backup_step) \
    X(sqlite3_busy_timeout) X(sqlite3_close) X(sqlite3_close_v2) \
    X(sqlite3_column_count) X(sqlite3_column_text) X(sqlite3_errmsg) \
    X(sqlite3_errstr) X(sqlite3_extended_errcode) X(sqlite3_extended_result_codes) \
    X(sqlite3_finalize) X(sqlite3_prepare_v2) X(sqlite3_step) \
    X(sqlite3_libversion) X(sqlite3_open_v2)

OPSKIT_LAZY_LIBRARY(sqlite, FUNCTIONS, "libsqlite3-0", "libsqlite3.so.0")
#define CALL(name) OPSKIT_LAZY_CALL(sqlite, name)

const char *opskit_sqlite_unavailable(void) { return opskit_lazy_error(&opskit_sqlite_library); }

int sqlite3_backup_finish(sqlite3_backup *a0) { return CALL(sqlite3_backup_finish)(a0); }
sqlite3_backup *sqlite3_backup_init(sqlite3 *a0, const char *a1, sqlite3 *a2, const char *a3) { return CALL(sqlite3_backup_init)(a0, a1, a2, a3); }
int sqlite3_backup_step(sqlite3_backup *a0, int a1) { return CALL(sqlite3_backup_step)(a0, a1); }
int sqlite3_busy_timeout(sqlite3 *a0, int a1) { return CALL(sqlite3_busy_timeout)(a0, a1); }
int sqlite3_close(sqlite3 *a0) { return CALL(sqlite3_close)(a0); }
int sqlite3_close_v2(sqlite3 *a0) { return CALL(sqlite3_close_v2)(a0); }
int sqlite3_column_count(sqlite3_stmt *a0) { return CALL(sqlite3_column_count)(a0); }
const unsigned char *sqlite3_column_text(sqlite3_stmt *a0, int a1) { return CALL(sqlite3_column_text)(a0, a1); }
const char *sqlite3_errmsg(sqlite3 *a0) { return CALL(sqlite3_errmsg)(a0); }
const char *sqlite3_errstr(int a0) { return CALL(sqlite3_errstr)(a0); }
int sqlite3_extended_errcode(sqlite3 *a0) { return CALL(sqlite3_extended_errcode)(a0); }
int sqlite3_extended_result_codes(sqlite3 *a0, int a1) { return CALL(sqlite3_extended_result_codes)(a0, a1); }
int sqlite3_finalize(sqlite3_stmt *a0) { return CALL(sqlite3_finalize)(a0); }
int sqlite3_prepare_v2(sqlite3 *a0, const char *a1, int a2, sqlite3_stmt **a3, const char **a4) { return CALL(sqlite3_prepare_v2)(a0, a1, a2, a3, a4); }
int sqlite3_step(sqlite3_stmt *a0) { return CALL(sqlite3_step)(a0); }
const char *sqlite3_libversion(void) { return CALL(sqlite3_libversion)(); }
int sqlite3_open_v2(const char *a0, sqlite3 **a1, int a2, const char *a3) {
    if (opskit_sqlite_unavailable()) { *a1 = 0; return SQLITE_CANTOPEN; }
    return CALL(sqlite3_open_v2)(a0, a1, a2, a3);
}
