// libarchive, wrapped once for OpsCore's tar and gzip streams (Sources/OpsCore/Archive), and loaded on first
// use (archive.c, CLazyLoad.h): a tool that reads or writes no archive never maps libarchive, libxml2 and ICU.
// The helpers give Swift the file-type constants, which are cast macros the importer does not bring across.
#ifndef OPSKIT_CARCHIVE_H
#define OPSKIT_CARCHIVE_H
#include <archive.h>
#include <archive_entry.h>

/// NULL when libarchive is loaded, else one line saying why not and what to install. Loads it on first call.
const char *opskit_archive_unavailable(void);

static inline const char *opskit_archive_version(void) { return archive_version_string(); }

static inline unsigned opskit_ae_ifreg(void) { return AE_IFREG; }
static inline unsigned opskit_ae_ifdir(void) { return AE_IFDIR; }
static inline unsigned opskit_ae_iflnk(void) { return AE_IFLNK; }
static inline unsigned opskit_ae_ifmt(void) { return AE_IFMT; }

#endif
