// libarchive, wrapped once for OpsCore's tar and gzip streams (Sources/OpsCore/Archive). The helpers give
// Swift the file-type constants, which are cast macros the importer does not bring across.
#ifndef OPSKIT_CARCHIVE_SHIM_H
#define OPSKIT_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

static inline const char *opskit_archive_version(void) { return archive_version_string(); }

static inline unsigned opskit_ae_ifreg(void) { return AE_IFREG; }
static inline unsigned opskit_ae_ifdir(void) { return AE_IFDIR; }
static inline unsigned opskit_ae_iflnk(void) { return AE_IFLNK; }
static inline unsigned opskit_ae_ifmt(void) { return AE_IFMT; }

#endif
