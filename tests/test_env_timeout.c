/* SPDX-License-Identifier: Apache-2.0 */
/* QMAR_COMM_TIMEOUT_MS: a positive integer is taken; anything else falls back to the default and
 * says so on stderr (once per process), as QMAR_ISA does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "comm/comm.h"

/* What qmar writes to stderr while a group of one is created with QMAR_COMM_TIMEOUT_MS=value. */
static void stderr_of_init(const char *value, char *out, size_t len)
{
    FILE *capture = tmpfile();
    int saved = dup(2);
    fflush(stderr);
    dup2(fileno(capture), 2);
    setenv("QMAR_COMM_TIMEOUT_MS", value, 1);
    qmar_comm *c[1];
    if (qmar_comm_init_all(1, c) == QMAR_SUCCESS)
        qmar_comm_destroy(c[0]);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(capture);
    size_t n = fread(out, 1, len - 1, capture);
    out[n] = '\0';
    fclose(capture);
}

int main(void)
{
    char err[1024];
    stderr_of_init("250", err, sizeof err);
    CHECK(err[0] == '\0');
    CHECK_EQ_I64(qmar__comm_default_timeout_ms(), 250);

    stderr_of_init("12x", err, sizeof err);
    CHECK(strstr(err, "QMAR_COMM_TIMEOUT_MS=12x") != NULL);
    CHECK(strstr(err, "60000") != NULL);
    CHECK_EQ_I64(qmar__comm_default_timeout_ms(), QMAR__DEFAULT_TIMEOUT_MS);

    static const char *const bad[] = {"0", "-5", "1e3", "10 ms", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("QMAR_COMM_TIMEOUT_MS", bad[i], 1);
        CHECK_EQ_I64(qmar__comm_default_timeout_ms(), QMAR__DEFAULT_TIMEOUT_MS);
    }
    unsetenv("QMAR_COMM_TIMEOUT_MS");
    CHECK_EQ_I64(qmar__comm_default_timeout_ms(), QMAR__DEFAULT_TIMEOUT_MS);
    return check_summary();
}
