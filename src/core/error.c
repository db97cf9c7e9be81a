/* error.c — thread-local last error with layered context. */
#include <stdio.h>
#include <stdlib.h>

#include "core.h"

typedef struct error_state {
    int code;
    char msg[1024];
} error_state;

static _Thread_local error_state tls_error;

const char *zarrc_strerror(int code)
{
    switch (code) {
    case ZARRC_OK: return "success";
    case ZARRC_ENOMEM: return "out of memory";
    case ZARRC_EINVAL: return "invalid argument";
    case ZARRC_ENOTFOUND: return "not found";
    case ZARRC_EEXISTS: return "already exists";
    case ZARRC_EIO: return "I/O error";
    case ZARRC_ECORRUPT: return "corrupt data";
    case ZARRC_EUNSUPPORTED: return "not supported";
    case ZARRC_EBOUNDS: return "out of bounds";
    case ZARRC_EDTYPE: return "data type error";
    case ZARRC_ECONFLICT: return "conflict";
    case ZARRC_EREADONLY: return "read-only";
    case ZARRC_EAUTH: return "permission denied";
    case ZARRC_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}

const char *zarrc_error_last(void) { return tls_error.msg; }

int zarrc_error_code(void) { return tls_error.code; }

void zarrc__error_clear(void)
{
    tls_error.code = ZARRC_OK;
    tls_error.msg[0] = '\0';
}

static void vset(int code, const char *fmt, va_list ap)
{
    tls_error.code = code;
    vsnprintf(tls_error.msg, sizeof tls_error.msg, fmt, ap);
}

int zarrc_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(code, fmt, ap);
    va_end(ap);
    return code;
}

int zarrc__error_context(int code, const char *fmt, ...)
{
    char prefix[512];
    char old[sizeof tls_error.msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (tls_error.code == ZARRC_OK) {
        /* No message yet: describe the code itself. */
        tls_error.code = code;
        snprintf(tls_error.msg, sizeof tls_error.msg, "%s%s", prefix, zarrc_strerror(code));
        return code;
    }
    memcpy(old, tls_error.msg, sizeof old);
    snprintf(tls_error.msg, sizeof tls_error.msg, "%s%s", prefix, old);
    return tls_error.code;
}

void zarrc__error_save(zarrc__error_saved *e, int code)
{
    e->code = tls_error.code != ZARRC_OK ? tls_error.code : code;
    if (tls_error.code != ZARRC_OK)
        memcpy(e->msg, tls_error.msg, sizeof e->msg);
    else
        snprintf(e->msg, sizeof e->msg, "%s", zarrc_strerror(code));
}

int zarrc__error_restore(const zarrc__error_saved *e)
{
    tls_error.code = e->code;
    memcpy(tls_error.msg, e->msg, sizeof tls_error.msg);
    return e->code;
}

int zarrc__enomem(void) { return zarrc_error_set(ZARRC_ENOMEM, "out of memory"); }

void zarrc_free(void *p) { free(p); }

const char *zarrc_version(void) { return ZARRC_VERSION_STRING; }
