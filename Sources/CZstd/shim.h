// libzstd, wrapped once for OpsCore's zstd streams (Sources/OpsCore/Archive/Zstd.swift). zstd.h has no
// variadic calls or macros we need, so Swift calls it directly (zstd_errors.h names the error codes).
#ifndef OPSKIT_CZSTD_SHIM_H
#define OPSKIT_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>

static inline unsigned opskit_zstd_version(void) { return ZSTD_versionNumber(); }

#endif
