/* Compiled by the api.header_* tests only: the public headers must be strict C99 and C++. */
#include "zarrc.h"
#include "zarrc_plugin.h"

int zarrc_header_check(void);
int zarrc_header_check(void)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    zarrc_copy_options c = ZARRC_COPY_OPTIONS_INIT;
    zarrc_buf b = ZARRC_BUF_INIT;
    return o.format + (int)c.version + (int)b.size;
}
