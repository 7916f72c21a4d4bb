/* SPDX-License-Identifier: Apache-2.0 */
/* qmar over MPI: one communicator endpoint per process (built when MPI is found). In libqmar-mpi,
 * not libqmar: cc app.c $(pkg-config --cflags --libs qmar-mpi), or CMake's qmar::qmar_mpi. */
#ifndef QMAR_QMAR_MPI_H
#define QMAR_QMAR_MPI_H

#include <mpi.h>

#include "qmar/qmar.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Collective over mpi_comm (every process calls it): makes this process's endpoint of a qmar
 * communicator whose ranks are mpi_comm's ranks. qmar works on its own duplicate of mpi_comm, so
 * its messages never mix with the application's. MPI must be initialised; the calling thread is
 * the one that runs the operator (MPI_THREAD_SINGLE or FUNNELED suffice if that is the main
 * thread). At most QMAR_COMM_MAX_RANKS processes. Like every qmar collective it never blocks
 * forever: a peer that does not join within the timeout (QMAR_COMM_TIMEOUT_MS, default 60 s)
 * gives QMAR_ERR_RUNTIME. Destroy the endpoint with qmar_comm_destroy before MPI_Finalize. */
QMAR_API qmar_status qmar_comm_init_mpi(MPI_Comm mpi_comm, qmar_comm **comm);

#ifdef __cplusplus
}
#endif
#endif /* QMAR_QMAR_MPI_H */
