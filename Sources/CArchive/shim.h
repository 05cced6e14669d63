// libarchive has no variadic calls we need; this header exists so the module is wrapped in exactly one
// place, beside CCurl, and later issues add typed helpers here if they need any.
#ifndef OPSKIT_CARCHIVE_SHIM_H
#define OPSKIT_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

static inline const char *opskit_archive_version(void) { return archive_version_string(); }

#endif
