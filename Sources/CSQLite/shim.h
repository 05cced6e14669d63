// SQLite, wrapped once for the Backup target. Only Sources/Backup/Databases/SQLiteDatabase.swift uses it;
// no SQLite type appears in a public Swift API.
#ifndef OPSKIT_CSQLITE_SHIM_H
#define OPSKIT_CSQLITE_SHIM_H
#include <sqlite3.h>

static inline const char *opskit_sqlite3_version(void) { return sqlite3_libversion(); }

// SQLITE_OPEN_* are plain macros Swift imports, but as Int32 of differing signedness per platform: one
// typed helper keeps the flag arithmetic in C.
static inline int opskit_sqlite3_open_readonly(const char *path, sqlite3 **db) {
    return sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, 0);
}

static inline int opskit_sqlite3_open_readwrite(const char *path, sqlite3 **db) {
    // No SQLITE_OPEN_CREATE: the caller created the (empty) file itself, exclusively.
    return sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, 0);
}

#endif
