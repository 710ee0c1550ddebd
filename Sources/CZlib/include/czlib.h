#ifndef EQ_CZLIB_H
#define EQ_CZLIB_H
#include <stddef.h>

/// Inflates gzip (or zlib) data, including several concatenated gzip members. On success returns
/// 0 and sets *out (malloc'ed; free with eq_zlib_free) and *out_length. On failure returns a negative
/// zlib code and writes a short reason into message.
int eq_gunzip(const unsigned char *input, size_t length, unsigned char **out, size_t *out_length,
              char *message, size_t message_length);

/// Deflates data into one gzip member (level 6). Same conventions as eq_gunzip.
int eq_gzip(const unsigned char *input, size_t length, unsigned char **out, size_t *out_length,
            char *message, size_t message_length);

void eq_zlib_free(void *pointer);
#endif
