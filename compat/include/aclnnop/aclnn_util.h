/* SPDX-License-Identifier: Apache-2.0 */
/* qmar compat — the export attribute of the aclnn operator entry points. */
#ifndef QMAR_COMPAT_ACLNNOP_ACLNN_UTIL_H
#define QMAR_COMPAT_ACLNNOP_ACLNN_UTIL_H

#ifndef ACLNN_API
#define ACLNN_API __attribute__((visibility("default")))
#endif

#endif
