/* SPDX-License-Identifier: Apache-2.0 */
/* qmar_version: the version of the library the program runs with (qmar.h has the one it was
 * compiled with). */
#include "qmar/qmar.h"

#define QMAR__STR_(x) #x
#define QMAR__STR(x) QMAR__STR_(x)

QMAR_API const char *qmar_version(void)
{
    return QMAR__STR(QMAR_VERSION_MAJOR) "." QMAR__STR(QMAR_VERSION_MINOR) "." QMAR__STR(
        QMAR_VERSION_PATCH);
}
