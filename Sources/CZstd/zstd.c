// libzstd on first use; see CLazyLoad.h. Each function Swift calls, with zstd's own prototype (checked by the
// compiler against <zstd.h>). The context constructors answer NULL when the library is missing, and the Swift
// wrappers then ask opskit_zstd_unavailable() why; the rest is only reached after one succeeded.
#include "CZstd.h"
#include "CLazyLoad.h"

#define FUNCTIONS(X) \
    X(ZSTD_versionNumber) X(ZSTD_compressBound) X(ZSTD_isError) \
    X(ZSTD_getErrorName) X(ZSTD_createCCtx) X(ZSTD_freeCCtx) \
    X(ZSTD_createDCtx) X(ZSTD_freeDCtx) X(ZSTD_CCtx_setParameter) \
    X(ZSTD_compress2) X(ZSTD_DCtx_setParameter) X(ZSTD_compressStream2) \
    X(ZSTD_CStreamOutSize) X(ZSTD_decompressStream) X(ZSTD_DStreamInSize) \
    X(ZSTD_getErrorCode)

OPSKIT_LAZY_LIBRARY(zstd, FUNCTIONS, "libzstd1", "libzstd.so.1")
#define CALL(name) OPSKIT_LAZY_CALL(zstd, name)

const char *opskit_zstd_unavailable(void) { return opskit_lazy_error(&opskit_zstd_library); }

unsigned ZSTD_versionNumber(void) { return CALL(ZSTD_versionNumber)(); }
size_t ZSTD_compressBound(size_t a0) { return CALL(ZSTD_compressBound)(a0); }
unsigned ZSTD_isError(size_t a0) { return CALL(ZSTD_isError)(a0); }
const char *ZSTD_getErrorName(size_t a0) { return CALL(ZSTD_getErrorName)(a0); }
ZSTD_CCtx *ZSTD_createCCtx(void) { return opskit_zstd_unavailable() ? 0 : CALL(ZSTD_createCCtx)(); }
size_t ZSTD_freeCCtx(ZSTD_CCtx *a0) { return CALL(ZSTD_freeCCtx)(a0); }
ZSTD_DCtx *ZSTD_createDCtx(void) { return opskit_zstd_unavailable() ? 0 : CALL(ZSTD_createDCtx)(); }
size_t ZSTD_freeDCtx(ZSTD_DCtx *a0) { return CALL(ZSTD_freeDCtx)(a0); }
size_t ZSTD_CCtx_setParameter(ZSTD_CCtx *a0, ZSTD_cParameter a1, int a2) { return CALL(ZSTD_CCtx_setParameter)(a0, a1, a2); }
size_t ZSTD_compress2(ZSTD_CCtx *a0, void *a1, size_t a2, const void *a3, size_t a4) { return CALL(ZSTD_compress2)(a0, a1, a2, a3, a4); }
size_t ZSTD_DCtx_setParameter(ZSTD_DCtx *a0, ZSTD_dParameter a1, int a2) { return CALL(ZSTD_DCtx_setParameter)(a0, a1, a2); }
size_t ZSTD_compressStream2(ZSTD_CCtx *a0, ZSTD_outBuffer *a1, ZSTD_inBuffer *a2, ZSTD_EndDirective a3) { return CALL(ZSTD_compressStream2)(a0, a1, a2, a3); }
size_t ZSTD_CStreamOutSize(void) { return CALL(ZSTD_CStreamOutSize)(); }
size_t ZSTD_decompressStream(ZSTD_DStream *a0, ZSTD_outBuffer *a1, ZSTD_inBuffer *a2) { return CALL(ZSTD_decompressStream)(a0, a1, a2); }
size_t ZSTD_DStreamInSize(void) { return CALL(ZSTD_DStreamInSize)(); }
ZSTD_ErrorCode ZSTD_getErrorCode(size_t a0) { return CALL(ZSTD_getErrorCode)(a0); }
