// SQLite, wrapped once for the Backup target, and loaded on first use (sqlite.c, CLazyLoad.h). Only
// Sources/Backup/Databases/SQLiteDatabase.swift uses it; no SQLite type appears in a public Swift API.
#ifndef OPSKIT_CSQLITE_H
#define OPSKIT_CSQLITE_H
#include <sqlite3.h>

/// NULL when libsqlite3 is loaded, else one line saying why not and what to install. Loads it on first call.
const char *opskit_sqlite_unavailable(void);

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
