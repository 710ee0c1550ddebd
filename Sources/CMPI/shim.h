// MPI's C API for Swift. Open MPI defines its handles (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM, ...)
// as macros over the addresses of library globals, which Swift cannot import; these inline
// functions hand them over. The include path comes from pkg-config (`ompi-c`, Debian's
// libopenmpi-dev), so nothing here needs an unsafe flag.
#ifndef EQ_CMPI_SHIM_H
#define EQ_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm eq_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype eq_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype eq_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype eq_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype eq_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op eq_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op eq_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op eq_mpi_min(void) { return MPI_MIN; }
static inline void *eq_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *eq_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Request eq_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline int eq_mpi_success(void) { return MPI_SUCCESS; }
static inline int eq_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline MPI_Errhandler eq_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int eq_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int eq_mpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline MPI_Info eq_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline int eq_mpi_mode_nocheck(void) { return MPI_MODE_NOCHECK; }

#endif
