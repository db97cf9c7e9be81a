/*
 * Fuzz target: the reference JSON parser and resolver (src/node/reference.c) on arbitrary
 * input, through the public API only: the input is parsed as a reference, resolved in a small
 * memory store, stored as the element of a reference dataset and resolved from there, and —
 * when it is a JSON object — set as a node's attributes whose links and references are listed
 * and resolved. Nothing may crash, hang or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zarrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_ref(void *ctx, const zarrc_ref_info *r)
{
    zarrc_store *s = ctx;
    if (r->json) {
        zarrc_node_ref t = {0};
        if (zarrc_node_resolve(&t, s, r->json, 0) == 0)
            zarrc_node_ref_clear(&t);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char *src = NULL, *path = NULL, *oid = NULL;
    if (zarrc_ref_parse(&src, &path, &oid, text) == 0) {
        zarrc_free(src);
        zarrc_free(path);
        zarrc_free(oid);
    }
    zarrc_store *s = NULL;
    if (zarrc_store_open(&s, "memory://", 0)) {
        free(text);
        return 0;
    }
    zarrc_group_create(s, "a/b", 3, NULL, 0);
    zarrc_node_ref t = {0};
    if (zarrc_node_resolve(&t, s, text, 0) == 0)
        zarrc_node_ref_clear(&t);
    if (zarrc_node_resolve(&t, s, text, ZARRC_OPEN_ALLOW_EXTERNAL) == 0) /* memory: nothing external opens */
        zarrc_node_ref_clear(&t);
    /* A reference dataset holding the input as its element. */
    int64_t shape[1] = {1};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "string";
    o.ndim = 1;
    o.shape = shape;
    o.attributes = "{\"_DTYPE\": \"object_reference\"}";
    zarrc_array *a = NULL;
    if (zarrc_array_create(&a, s, "refs", &o) == 0) {
        uint64_t offs[2] = {0, size};
        zarrc_vlen v = {1, offs, (uint8_t *)text, size};
        int64_t start[1] = {0}, count[1] = {1};
        if (zarrc_array_write(a, start, count, NULL, &v, sizeof v) == 0)
            for (int64_t i = -1; i <= 1; i++)
                if (zarrc_node_resolve_element(&t, s, "refs", i, NULL, 0) == 0)
                    zarrc_node_ref_clear(&t);
        zarrc_array_free(a);
    }
    /* The input as a group's attributes: links and references listed and resolved. */
    if (zarrc_node_set_attributes(s, "a", text, 0, NULL) == 0) {
        zarrc_node_references(s, "a", on_ref, s);
        zarrc_node_link_add(s, "a", "l", "a/b");
        zarrc_node_references(s, "a", on_ref, s);
    }
    zarrc_store_free(s);
    free(text);
    return 0;
}
