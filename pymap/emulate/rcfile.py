"""pmap's rc files (-c, -C, -n, -N).

An rc file lists the -X columns to show ([Fields Display]) and whether the
Mapping column shows whole paths ([Mapping] ShowPath).  Reading follows
pmap's parser warning for warning, since users see those messages; creating
is stricter than pmap: it never writes through a symbolic link or over an
existing file.
"""

import os

from ..parse.c_rules import c_string, fgets_pieces

_LINE_MAX = 1024  # pmap's MAX_CNF_LINE_LEN: fgets() reads at most this much
_DESCRIPTION_MAX = 31  # pmap keeps each field name in a char[32]

_FIELDS_DISPLAY = b"[Fields Display]"
_MAPPING = b"[Mapping]"
_NO_SECTION, _UNSUPPORTED, _FIELDS, _MAPPING_SECTION = range(4)

_TEMPLATE_FORMAT = (
    b"# pmap's Config File\n"
    b"\n"
    b"# All the entries are case sensitive.\n"
    b"# Unsupported entries are ignored!\n"
    b"\n"
    b"[Fields Display]\n"
    b"\n"
    b"# To enable a field uncomment its entry\n"
    b"\n"
    b"#%(Perm)s\n"
    b"#%(Offset)s\n"
    b"#%(Device)s\n"
    b"#%(Inode)s\n"
    b"#Size\n"
    b"#Rss\n"
    b"#Pss\n"
    b"#Shared_Clean\n"
    b"#Shared_Dirty\n"
    b"#Private_Clean\n"
    b"#Private_Dirty\n"
    b"#Referenced\n"
    b"#Anonymous\n"
    b"#AnonHugePages\n"
    b"#Swap\n"
    b"#KernelPageSize\n"
    b"#MMUPageSize\n"
    b"#Locked\n"
    b"#VmFlags\n"
    b"#%(Mapping)s\n"
    b"\n"
    b"\n"
    b"[Mapping]\n"
    b"\n"
    b"# to show paths in the mapping column uncomment the following line\n"
    b"#ShowPath\n"
    b"\n"
)


class RcConfig:
    """What an rc file asks for: ``fields`` (the enabled column names:
    smaps fields, Perm, Offset, Device, Inode, VmFlags, Mapping) and
    ``show_path_toggles`` (ShowPath entries; each one flips -p)."""

    __slots__ = ("fields", "show_path_toggles")

    def __init__(self, fields, show_path_toggles):
        self.fields = frozenset(fields)
        self.show_path_toggles = show_path_toggles

    def __repr__(self):
        return "RcConfig(%r, %r)" % (sorted(self.fields), self.show_path_toggles)


def default_path(environ, console):
    """$HOME/.NAMErc (NAME: the name pmap was invoked as), or None after
    pmap's warning when HOME is unset."""
    home = environ.get(b"HOME")
    if home is None:
        console.pmap_message(b"HOME variable undefined")
        return None
    return b"%s/.%src" % (home, console.program)


_HEADINGS = ("Perm", "Offset", "Device", "Inode", "Mapping")
TEMPLATE = _TEMPLATE_FORMAT % {name.encode(): name.encode() for name in _HEADINGS}  # in English


def template(words):
    """pmap's rc template, with pmap's headings in the user's language (words)."""
    return _TEMPLATE_FORMAT % {name.encode(): words.headings[name] for name in _HEADINGS}


def create(path, console, words=None):
    """Write pmap's rc template to ``path`` (with pmap's headings in the
    user's language, ``words``); False when it cannot.

    Unlike pmap (which checks with fopen "r", then opens for writing and so
    follows a symbolic link, even a dangling one), the file is created with
    O_EXCL|O_NOFOLLOW: whatever already exists at ``path`` is left alone;
    and a write that fails (a full disk) is said, and the file removed."""
    if path is None:
        return False
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except FileExistsError:
        console.pmap_message(b"the file already exists - delete or rename it first")
        return False
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return False
    failure = None
    try:
        view = memoryview(TEMPLATE if words is None else template(words))
        while view:
            view = view[os.write(descriptor, view):]
    except OSError as error:
        failure = error
    finally:
        try:
            os.close(descriptor)
        except OSError as error:
            failure = failure or error
    if failure is not None:
        # (pmap does not check its writes and says it created the file; an
        # empty or cut template is no rc file: say why, and remove it)
        try:
            os.unlink(path)
        except OSError:
            pass
        console.message(b"%s: %s" % (path, os.fsencode(failure.strerror or str(failure))))
        return False
    return True


# an rc file is some 40 lines: what is longer than this is not one (and a
# device such as /dev/zero would never end)
READ_LIMIT = 1 << 20


def read(path, console):
    """The RcConfig of the rc file at ``path``, or None when it cannot be
    opened; its warnings go to ``console`` as pmap prints them.  A regular
    file, a folder (which reads as empty, as with fopen/fgets) or a
    character device (/dev/null: an empty rc file, as pmap reads it) is
    read, without blocking and up to READ_LIMIT bytes: a larger one
    (/dev/zero, where pmap would read on for ever) and a FIFO or a socket
    (where pmap would wait) count as rc files that cannot be read."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except (OSError, ValueError):
        return None
    chunks = []
    size = 0
    try:
        kind = os.fstat(descriptor).st_mode & 0o170000
        if kind not in (0o100000, 0o040000, 0o020000):  # regular, folder, character device
            return None
        while size <= READ_LIMIT:
            chunk = os.read(descriptor, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        pass  # a directory opens but reads nothing, as with fopen/fgets
    finally:
        os.close(descriptor)
    if size > READ_LIMIT:
        return None
    return parse(b"".join(chunks), console)


def _tokens(text):
    """strtok(text, " \\t") twice: the first token and the next (or None)."""
    words = text.replace(b"\t", b" ").split(b" ")
    words = [word for word in words if word]
    return (words + [None, None])[:2]


def parse(data, console):
    """The RcConfig of rc file contents, warning like pmap's config_read()."""
    fields = []
    toggles = 0
    section = _NO_SECTION
    pieces = iter(fgets_pieces(data, _LINE_MAX))  # fgets(buf, 1025, f)
    line_number = 0

    def warn_syntax():
        console.pmap_message(b"syntax error found in the config - line %d", line_number)

    for piece in pieces:
        line_number += 1
        line = c_string(piece)
        if line.endswith(b"\n"):
            line = line[:-1]
        elif len(line) == _LINE_MAX:
            console.pmap_message(b"config line too long - line %d", line_number)
            # the rest of the long line is dropped
            for rest in pieces:
                rest = c_string(rest)
                if not rest or rest.endswith(b"\n"):
                    break
        text = line.lstrip(b" \t")
        if not text or text.startswith(b"#"):
            continue
        if text.startswith(b"["):
            if text.startswith(_FIELDS_DISPLAY):
                text = text[len(_FIELDS_DISPLAY):]
                section = _FIELDS
            elif text.startswith(_MAPPING):
                text = text[len(_MAPPING):]
                section = _MAPPING_SECTION
            else:
                close = text.find(b"]")
                if close >= 0:
                    section = _UNSUPPORTED
                    console.pmap_message(b"unsupported section found in the config - line %d", line_number)
                    text = text[close + 1:]
                else:
                    warn_syntax()
                    text = b""
            text = text.lstrip(b" \t")
            if not text or text.startswith(b"#"):
                continue
            # pmap warns, then reads the rest of the line as an entry
            warn_syntax()
        if section in (_FIELDS, _MAPPING_SECTION):
            token, tail = _tokens(text)
            if token is None:
                continue
            if tail is not None and not tail.startswith(b"#"):
                warn_syntax()
            if section == _FIELDS:
                fields.append(token[:_DESCRIPTION_MAX])
            elif token == b"ShowPath":
                toggles += 1
        elif section == _NO_SECTION:
            warn_syntax()
    return RcConfig(fields, toggles)
