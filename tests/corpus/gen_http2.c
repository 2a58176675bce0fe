/* HTTP/2 frames and HPACK header blocks. */
#include "tests/corpus/gen.h"

void corpus_http2(void)
{
}
