/* SPDX-License-Identifier: Apache-2.0 */
/* The environment, read by the shared library:
 *   devcount  QMAR_COMPAT_DEVICE_COUNT=8x (not an integer in 1..64) falls back to 8 devices with
 *             one line on stderr (it used to fall back silently);
 *   faultenv  QMAR_FAULT_ALLOC=2 fails compat's second allocation, once: aclrtMalloc (one
 *             allocation, and one for the registry's table) fails the first time, with a reason,
 *             and works the second. No libqmar function runs, so only compat's hooks count. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl/acl.h"
#include "check.h"

static int fault_env(void)
{
    const char *v = getenv("QMAR_FAULT_ALLOC");
    CHECK(v != NULL && strcmp(v, "2") == 0); /* meson.build sets it */
    void *p = NULL;
    CHECK_EQ_I64(aclrtMalloc(&p, 64, ACL_MEM_MALLOC_HUGE_FIRST), ACL_ERROR_RT_MEMORY_ALLOCATION);
    CHECK(p == NULL);
    const char *m = aclGetRecentErrMsg();
    CHECK(m != NULL && strstr(m, "aclrtMalloc") != NULL);
    CHECK_EQ_I64(aclrtMalloc(&p, 64, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtFree(p), ACL_SUCCESS);
    return check_summary();
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "faultenv") == 0)
        return fault_env();
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
