"""The command line: pmap's options (glibc's getopt_long), the one frozen
Request they make, the rc files, and running the request's mode."""
