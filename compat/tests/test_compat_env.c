/* QMAR_COMPAT_DEVICE_COUNT: a value that is not an integer in 1..64 falls back to 8 devices with
 * one line on stderr (it used to fall back silently). Run with the variable set to garbage. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl/acl.h"
#include "check.h"

int main(void)
{
    const char *v = getenv("QMAR_COMPAT_DEVICE_COUNT");
    CHECK(v != NULL && strcmp(v, "8x") == 0); /* meson.build sets it */
    FILE *capture = tmpfile();
    CHECK(capture != NULL);
    if (capture == NULL)
        return check_summary();
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(capture), 2);
    uint32_t count = 0;
    aclError e = aclrtGetDeviceCount(&count);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CHECK_EQ_I64(e, ACL_SUCCESS);
    CHECK_EQ_I64(count, 8);
    char text[512] = {0};
    rewind(capture);
    size_t got = fread(text, 1, sizeof text - 1, capture);
    fclose(capture);
    CHECK(got > 0 && strstr(text, "QMAR_COMPAT_DEVICE_COUNT=\"8x\"") != NULL);
    return check_summary();
}
