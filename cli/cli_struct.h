/*
 * cli_struct.h — records (struct data types) in the CLI: one element as a JSON object,
 * put --json for record arrays, get --field, and the field table for info.
 */
#ifndef ZARRC_CLI_STRUCT_H
#define ZARRC_CLI_STRUCT_H

#include "cli.h"

/** Print one record as {"field": value, ...} (the library's v3 value encoding). */
void cli_struct_put_element(FILE *out, const zarrc_dtype_info *dt, const uint8_t *p);

/** put --json for a struct array: the whole input (a list of record objects, flat or nested
 *  by the selection's shape, or {"data": list}, or one object when n is 1) into n records at
 *  data. Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_struct_read_json(FILE *in, const char *src, const zarrc_dtype_info *dt, void *data, int64_t n,
                         int out_ndim, const int64_t *out_shape);

/** get --field: keep field `name` of the n records in buf (compacted in place); *fdt becomes
 *  the field's element type, *n and the output shape grow by a sub-array field's shape
 *  (out_shape has room for 64 entries). Returns 0 or CLI_EXIT_FAIL. */
int cli_struct_select_field(zarrc_dtype_info *fdt, void *buf, int64_t *n, int *out_ndim, int64_t *out_shape,
                            const zarrc_dtype_info *dt, const char *name, const char *node);

/** info: print the field table ("  name  type  offset  size  [shape]"), nested records
 *  indented. */
void cli_struct_print_fields(FILE *out, const zarrc_dtype_info *dt, int indent);

#endif
