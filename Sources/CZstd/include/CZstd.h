// libzstd, wrapped once for OpsCore's zstd streams (Sources/OpsCore/Archive/Zstd.swift, ZstdBlocks.swift), and
// loaded on first use (zstd.c, CLazyLoad.h). zstd.h has no variadic calls or macros we need, so Swift calls it
// directly (zstd_errors.h names the error codes).
#ifndef OPSKIT_CZSTD_H
#define OPSKIT_CZSTD_H
#include <zstd.h>
#include <zstd_errors.h>

/// NULL when libzstd is loaded, else one line saying why not and what to install. Loads it on first call.
const char *opskit_zstd_unavailable(void);

static inline unsigned opskit_zstd_version(void) { return ZSTD_versionNumber(); }

#endif
