/*
 * sim_tempfile.h - temporary files that do not outlive an interrupted or
 * exiting process (the registry of git's tempfile.c, reduced to what vmsim
 * needs).
 *
 * A writer that builds a file under a temporary name and renames it into
 * place registers the temporary name before writing and unregisters it
 * after the rename (or after removing it on failure).  While a name is
 * registered, the process unlinks it when it
 *   - is killed by SIGINT, SIGTERM, SIGHUP or SIGPIPE: a handler, installed
 *     once on the first registration, unlinks every registered name with
 *     async-signal-safe calls only, then puts back the signal's previous
 *     action (the default one unless someone else had installed a handler)
 *     and raises the signal again, so the process still dies of it;
 *   - calls exit() or returns from main() (atexit).
 * A signal that was ignored when the handler would have been installed
 * stays ignored (nohup, a SIGPIPE-ignoring parent).  Names are removed
 * only by the process that registered them, not by children forked while
 * they were registered.  The table is fixed (SIM_TEMPFILE_MAX names, no
 * allocation anywhere) and may be used from several threads.
 *
 * Not handled: SIGKILL, a crash (SIGSEGV, SIGABRT), _exit().
 */
#ifndef SIM_TEMPFILE_H
#define SIM_TEMPFILE_H

#define SIM_TEMPFILE_MAX 16           /* names registered at the same time */
#define SIM_TEMPFILE_PATH_MAX 4096    /* bytes, the terminating 0 included */

/* Remember path for removal (see above).  Returns 0, VM_EINVAL (path too
 * long) or VM_ENOSPC (SIM_TEMPFILE_MAX names already registered). */
int sim_tempfile_register(const char *path);

/* Forget path: call after renaming or unlinking it.  A name that is not
 * registered (by this process) is ignored. */
void sim_tempfile_unregister(const char *path);

/*
 * mkstemp(tmpl) whose file is registered at once: the four signals are
 * blocked from before the file exists until it is registered, so no
 * moment leaves it behind.  Returns the open descriptor, or -1 with errno
 * set (mkstemp's, or ENAMETOOLONG / ENOSPC when the name could not be
 * registered; the file is then removed again).
 */
int sim_tempfile_mkstemp(char *tmpl);

#endif
