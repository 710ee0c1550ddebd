// A tiny shim over the system zlib (Debian: zlib1g-dev) for reading .csv.gz files: Swift on
// Linux has no gzip in Foundation, and the whole-buffer loop is easier to keep safe in C.
#include "czlib.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int fail(z_stream *s, int code, char *message, size_t message_length, const char *what,
                unsigned char *buffer, int deflating) {
    snprintf(message, message_length, "%s (%s)", what, s->msg ? s->msg : zError(code));
    if (deflating) deflateEnd(s); else inflateEnd(s);
    free(buffer);
    return code < 0 ? code : Z_DATA_ERROR;
}

int eq_gunzip(const unsigned char *input, size_t length, unsigned char **out, size_t *out_length,
              char *message, size_t message_length) {
    z_stream s;
    memset(&s, 0, sizeof s);
    // 15 + 32: the largest window, with gzip or zlib headers detected automatically.
    int code = inflateInit2(&s, 15 + 32);
    if (code != Z_OK) { snprintf(message, message_length, "cannot start zlib (%s)", zError(code)); return code; }
    size_t capacity = length * 4 + 1024, used = 0;
    unsigned char *buffer = malloc(capacity);
    if (!buffer) { inflateEnd(&s); snprintf(message, message_length, "out of memory"); return Z_MEM_ERROR; }
    size_t consumed = 0;
    for (;;) {
        if (used == capacity) {
            capacity *= 2;
            unsigned char *grown = realloc(buffer, capacity);
            if (!grown) return fail(&s, Z_MEM_ERROR, message, message_length, "out of memory", buffer, 0);
            buffer = grown;
        }
        size_t chunk_in = length - consumed;
        s.next_in = (unsigned char *)input + consumed;
        s.avail_in = chunk_in > 0x40000000 ? 0x40000000 : (uInt)chunk_in;
        size_t room = capacity - used;
        s.next_out = buffer + used;
        s.avail_out = room > 0x40000000 ? 0x40000000 : (uInt)room;
        uInt in_before = s.avail_in, out_before = s.avail_out;
        code = inflate(&s, Z_NO_FLUSH);
        consumed += in_before - s.avail_in;
        used += out_before - s.avail_out;
        if (code == Z_STREAM_END) {
            // Another gzip member may follow (files made with cat a.gz b.gz).
            if (consumed < length && input[consumed] == 0x1f) { inflateReset(&s); continue; }
            break;
        }
        if (code == Z_BUF_ERROR && consumed == length && s.avail_out > 0)
            return fail(&s, Z_DATA_ERROR, message, message_length, "the compressed data ends early", buffer, 0);
        if (code != Z_OK && code != Z_BUF_ERROR)
            return fail(&s, code, message, message_length, "the compressed data is corrupt", buffer, 0);
    }
    inflateEnd(&s);
    *out = buffer;
    *out_length = used;
    return 0;
}

int eq_gzip(const unsigned char *input, size_t length, unsigned char **out, size_t *out_length,
            char *message, size_t message_length) {
    z_stream s;
    memset(&s, 0, sizeof s);
    int code = deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);   // + 16: gzip header
    if (code != Z_OK) { snprintf(message, message_length, "cannot start zlib (%s)", zError(code)); return code; }
    if (length > 0x40000000) return fail(&s, Z_BUF_ERROR, message, message_length, "input over 1 GiB", NULL, 1);
    size_t capacity = deflateBound(&s, (uLong)length) + 64;
    unsigned char *buffer = malloc(capacity);
    if (!buffer) return fail(&s, Z_MEM_ERROR, message, message_length, "out of memory", NULL, 1);
    s.next_in = (unsigned char *)input;
    s.avail_in = (uInt)length;
    s.next_out = buffer;
    s.avail_out = (uInt)capacity;
    code = deflate(&s, Z_FINISH);
    if (code != Z_STREAM_END) return fail(&s, code, message, message_length, "deflate did not finish", buffer, 1);
    *out = buffer;
    *out_length = capacity - s.avail_out;
    deflateEnd(&s);
    return 0;
}

void eq_zlib_free(void *pointer) { free(pointer); }
