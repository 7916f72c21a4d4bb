/* Placeholder until the computing path lands (issue 3): Run reports that it cannot compute. */
#include "error.h"
#include "plan.h"

qmar_status qmar__execute(qmar_executor *e, void *workspace)
{
    (void)e;
    (void)workspace;
    return qmar__fail(QMAR_ERR_INNER, "run: the computing path is not built yet");
}
