"""pmap's rc files (-c, -C, -n, -N): placeholder until the rc work lands."""


def create(path, console):
    raise NotImplementedError("rc files")


def default_path(environ, console):
    raise NotImplementedError("rc files")


def read(path, console):
    raise NotImplementedError("rc files")
