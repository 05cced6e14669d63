// libarchive on first use; see CLazyLoad.h. Each function Swift calls, with libarchive's own prototype (the
// compiler checks every one against <archive.h>). The allocators answer NULL when the library is missing, and
// the Swift wrappers then ask opskit_archive_unavailable() why; the rest is only reached after one succeeded.
#include "CArchive.h"
#include "CLazyLoad.h"

#define FUNCTIONS(X) \
    X(archive_entry_clear) X(archive_entry_copy_gname) X(archive_entry_copy_hardlink) \
    X(archive_entry_copy_pathname) X(archive_entry_copy_stat) X(archive_entry_copy_symlink) \
    X(archive_entry_copy_uname) X(archive_entry_filetype) X(archive_entry_free) \
    X(archive_entry_hardlink) X(archive_entry_hardlink_utf8) X(archive_entry_new) \
    X(archive_entry_pathname) X(archive_entry_pathname_utf8) X(archive_entry_perm) \
    X(archive_entry_set_filetype) X(archive_entry_set_gid) X(archive_entry_set_mtime) \
    X(archive_entry_set_pathname) X(archive_entry_set_perm) X(archive_entry_set_size) \
    X(archive_entry_set_uid) X(archive_entry_size) X(archive_entry_symlink) \
    X(archive_entry_symlink_utf8) X(archive_entry_unset_atime) X(archive_entry_unset_birthtime) \
    X(archive_entry_unset_ctime) X(archive_errno) X(archive_error_string) \
    X(archive_filter_bytes) X(archive_filter_code) X(archive_read_data) \
    X(archive_read_data_block) X(archive_read_data_skip) X(archive_read_free) \
    X(archive_read_new) X(archive_read_next_header) X(archive_read_open) \
    X(archive_read_support_filter_gzip) X(archive_read_support_format_gnutar) X(archive_read_support_format_raw) \
    X(archive_read_support_format_tar) X(archive_write_add_filter_gzip) X(archive_write_close) \
    X(archive_write_data) X(archive_write_data_block) X(archive_write_disk_new) \
    X(archive_write_disk_set_options) X(archive_write_disk_set_standard_lookup) X(archive_write_finish_entry) \
    X(archive_write_free) X(archive_write_header) X(archive_write_new) \
    X(archive_write_open) X(archive_write_set_bytes_per_block) X(archive_write_set_filter_option) \
    X(archive_write_set_format_pax_restricted) X(archive_write_set_format_raw) X(archive_version_string)

OPSKIT_LAZY_LIBRARY(archive, FUNCTIONS, "libarchive13", "libarchive.so.13")
#define CALL(name) OPSKIT_LAZY_CALL(archive, name)

const char *opskit_archive_unavailable(void) { return opskit_lazy_error(&opskit_archive_library); }

struct archive_entry *archive_entry_clear(struct archive_entry *a0) { return CALL(archive_entry_clear)(a0); }
void archive_entry_copy_gname(struct archive_entry *a0, const char *a1) { CALL(archive_entry_copy_gname)(a0, a1); }
void archive_entry_copy_hardlink(struct archive_entry *a0, const char *a1) { CALL(archive_entry_copy_hardlink)(a0, a1); }
void archive_entry_copy_pathname(struct archive_entry *a0, const char *a1) { CALL(archive_entry_copy_pathname)(a0, a1); }
void archive_entry_copy_stat(struct archive_entry *a0, const struct stat *a1) { CALL(archive_entry_copy_stat)(a0, a1); }
void archive_entry_copy_symlink(struct archive_entry *a0, const char *a1) { CALL(archive_entry_copy_symlink)(a0, a1); }
void archive_entry_copy_uname(struct archive_entry *a0, const char *a1) { CALL(archive_entry_copy_uname)(a0, a1); }
mode_t archive_entry_filetype(struct archive_entry *a0) { return CALL(archive_entry_filetype)(a0); }
void archive_entry_free(struct archive_entry *a0) { CALL(archive_entry_free)(a0); }
const char *archive_entry_hardlink(struct archive_entry *a0) { return CALL(archive_entry_hardlink)(a0); }
const char *archive_entry_hardlink_utf8(struct archive_entry *a0) { return CALL(archive_entry_hardlink_utf8)(a0); }
struct archive_entry *archive_entry_new(void) { return opskit_archive_unavailable() ? 0 : CALL(archive_entry_new)(); }
const char *archive_entry_pathname(struct archive_entry *a0) { return CALL(archive_entry_pathname)(a0); }
const char *archive_entry_pathname_utf8(struct archive_entry *a0) { return CALL(archive_entry_pathname_utf8)(a0); }
mode_t archive_entry_perm(struct archive_entry *a0) { return CALL(archive_entry_perm)(a0); }
void archive_entry_set_filetype(struct archive_entry *a0, unsigned int a1) { CALL(archive_entry_set_filetype)(a0, a1); }
void archive_entry_set_gid(struct archive_entry *a0, la_int64_t a1) { CALL(archive_entry_set_gid)(a0, a1); }
void archive_entry_set_mtime(struct archive_entry *a0, time_t a1, long a2) { CALL(archive_entry_set_mtime)(a0, a1, a2); }
void archive_entry_set_pathname(struct archive_entry *a0, const char *a1) { CALL(archive_entry_set_pathname)(a0, a1); }
void archive_entry_set_perm(struct archive_entry *a0, mode_t a1) { CALL(archive_entry_set_perm)(a0, a1); }
void archive_entry_set_size(struct archive_entry *a0, la_int64_t a1) { CALL(archive_entry_set_size)(a0, a1); }
void archive_entry_set_uid(struct archive_entry *a0, la_int64_t a1) { CALL(archive_entry_set_uid)(a0, a1); }
la_int64_t archive_entry_size(struct archive_entry *a0) { return CALL(archive_entry_size)(a0); }
const char *archive_entry_symlink(struct archive_entry *a0) { return CALL(archive_entry_symlink)(a0); }
const char *archive_entry_symlink_utf8(struct archive_entry *a0) { return CALL(archive_entry_symlink_utf8)(a0); }
void archive_entry_unset_atime(struct archive_entry *a0) { CALL(archive_entry_unset_atime)(a0); }
void archive_entry_unset_birthtime(struct archive_entry *a0) { CALL(archive_entry_unset_birthtime)(a0); }
void archive_entry_unset_ctime(struct archive_entry *a0) { CALL(archive_entry_unset_ctime)(a0); }
int archive_errno(struct archive *a0) { return CALL(archive_errno)(a0); }
const char *archive_error_string(struct archive *a0) { return CALL(archive_error_string)(a0); }
la_int64_t archive_filter_bytes(struct archive *a0, int a1) { return CALL(archive_filter_bytes)(a0, a1); }
int archive_filter_code(struct archive *a0, int a1) { return CALL(archive_filter_code)(a0, a1); }
la_ssize_t archive_read_data(struct archive *a0, void *a1, size_t a2) { return CALL(archive_read_data)(a0, a1, a2); }
int archive_read_data_block(struct archive *a0, const void **a1, size_t *a2, la_int64_t *a3) { return CALL(archive_read_data_block)(a0, a1, a2, a3); }
int archive_read_data_skip(struct archive *a0) { return CALL(archive_read_data_skip)(a0); }
int archive_read_free(struct archive *a0) { return CALL(archive_read_free)(a0); }
struct archive *archive_read_new(void) { return opskit_archive_unavailable() ? 0 : CALL(archive_read_new)(); }
int archive_read_next_header(struct archive *a0, struct archive_entry **a1) { return CALL(archive_read_next_header)(a0, a1); }
int archive_read_open(struct archive *a0, void *a1, archive_open_callback *a2, archive_read_callback *a3, archive_close_callback *a4) { return CALL(archive_read_open)(a0, a1, a2, a3, a4); }
int archive_read_support_filter_gzip(struct archive *a0) { return CALL(archive_read_support_filter_gzip)(a0); }
int archive_read_support_format_gnutar(struct archive *a0) { return CALL(archive_read_support_format_gnutar)(a0); }
int archive_read_support_format_raw(struct archive *a0) { return CALL(archive_read_support_format_raw)(a0); }
int archive_read_support_format_tar(struct archive *a0) { return CALL(archive_read_support_format_tar)(a0); }
int archive_write_add_filter_gzip(struct archive *a0) { return CALL(archive_write_add_filter_gzip)(a0); }
int archive_write_close(struct archive *a0) { return CALL(archive_write_close)(a0); }
la_ssize_t archive_write_data(struct archive *a0, const void *a1, size_t a2) { return CALL(archive_write_data)(a0, a1, a2); }
la_ssize_t archive_write_data_block(struct archive *a0, const void *a1, size_t a2, la_int64_t a3) { return CALL(archive_write_data_block)(a0, a1, a2, a3); }
struct archive *archive_write_disk_new(void) { return opskit_archive_unavailable() ? 0 : CALL(archive_write_disk_new)(); }
int archive_write_disk_set_options(struct archive *a0, int a1) { return CALL(archive_write_disk_set_options)(a0, a1); }
int archive_write_disk_set_standard_lookup(struct archive *a0) { return CALL(archive_write_disk_set_standard_lookup)(a0); }
int archive_write_finish_entry(struct archive *a0) { return CALL(archive_write_finish_entry)(a0); }
int archive_write_free(struct archive *a0) { return CALL(archive_write_free)(a0); }
int archive_write_header(struct archive *a0, struct archive_entry *a1) { return CALL(archive_write_header)(a0, a1); }
struct archive *archive_write_new(void) { return opskit_archive_unavailable() ? 0 : CALL(archive_write_new)(); }
int archive_write_open(struct archive *a0, void *a1, archive_open_callback *a2, archive_write_callback *a3, archive_close_callback *a4) { return CALL(archive_write_open)(a0, a1, a2, a3, a4); }
int archive_write_set_bytes_per_block(struct archive *a0, int a1) { return CALL(archive_write_set_bytes_per_block)(a0, a1); }
int archive_write_set_filter_option(struct archive *a0, const char *a1, const char *a2, const char *a3) { return CALL(archive_write_set_filter_option)(a0, a1, a2, a3); }
int archive_write_set_format_pax_restricted(struct archive *a0) { return CALL(archive_write_set_format_pax_restricted)(a0); }
int archive_write_set_format_raw(struct archive *a0) { return CALL(archive_write_set_format_raw)(a0); }
const char *archive_version_string(void) { return CALL(archive_version_string)(); }
