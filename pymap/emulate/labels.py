"""What pmap's engine and its accelerators share about a mapping: where
its size is added (``size_total_of``), the Mode column pmap makes of its perms
(``edit_perms``), and its Mapping column (``label_kind``: a part of its
name, or one of pmap's labels, rendered in pmap's words last by
``render_label``), for the classic listings and for pymap's reports.
"""

from ..escape import escape_mapping_name
from ..parse.c_rules import MASK64

__all__ = ["size_total_of", "edit_perms", "label_kind", "render_label", "label_reference", "mapping_label",
           "mapping_label_kind", "SHARED", "PRIVATE_WRITEABLE", "PRIVATE_READONLY", "OTHER", "NAME", "ANON",
           "STACK", "SHMID"]

_S, _P, _W = ord("s"), ord("p"), ord("w")
SHARED, PRIVATE_WRITEABLE, PRIVATE_READONLY, OTHER = range(4)
_SHM_NONE = 0xFFFFFFFF  # pmap's shm_minor when its probe found none (~0u)


def size_total_of(perms):
    """Where pmap adds a mapping's size: by the 4th and 2nd byte of its
    perms buffer (as scanned, before pmap edits it)."""
    kind = perms[3] if len(perms) > 3 else 0
    if kind == _S:
        return SHARED
    if kind == _P:
        return PRIVATE_WRITEABLE if perms[1] == _W else PRIVATE_READONLY
    return OTHER


def edit_perms(perms):
    """pmap's edits of its perms buffer (a bytearray of 32) after adding the
    size: 'p' becomes '-', then a fifth flag '-' and the end.  Returns the
    Mode column as printf("%s") shows it."""
    if perms[3] == _P:
        perms[3] = 0x2D
    perms[4] = 0x2D
    perms[5] = 0
    end = perms.find(0)
    return bytes(perms[:end])


# what pmap's Mapping column shows, as a kind: a part of the mapping's
# name, or one of pmap's labels, whose words (in the user's language) are
# rendered last (render_label), so that no logic compares translated text
NAME, ANON, STACK, SHMID = "name", "anon", "stack", "shmid"


def label_kind(text, start, end, major, minor, start_stack, view):
    """pmap's mapping_name() for a cleaned header line ``text`` (a C
    string): (NAME, offset) when the label is the string at ``offset`` of
    pmap's line buffer, else (ANON, None), (STACK, None) or (SHMID, None)."""
    if not major and b"/SYSV" in text:
        shm_minor = view.sysv_minor()
        if minor == (_SHM_NONE if shm_minor is None else shm_minor):
            return SHMID, None
    slash = text.rfind(b"/")
    if slash >= 0:
        if view.show_path:
            return NAME, text.find(b"/")
        return NAME, (slash + 1 if slash + 1 < len(text) else slash)
    if view.kernel_names and text.endswith(b"]"):
        bracket = text.find(b"[")
        if bracket >= 0:
            return NAME, bracket
    if start <= start_stack <= (start + ((end - start) & MASK64)) & MASK64:
        return STACK, None
    return ANON, None


def render_label(kind, inode, words):
    """The Mapping column of one of pmap's labels, in the user's language."""
    if kind == SHMID:
        return b"  [ shmid=0x%x ]" % inode
    return words.stack if kind == STACK else words.anon


def label_reference(text, start, end, major, minor, inode, start_stack, view):
    """label_kind() as pmap's buffer holds it: (offset, None) when the label
    is the string at ``offset`` of the line buffer, else (None, label)."""
    kind, offset = label_kind(text, start, end, major, minor, start_stack, view)
    if kind == NAME:
        return offset, None
    return None, render_label(kind, inode, view.words)


def mapping_label_kind(mapping, start_stack, view):
    """(kind, Mapping column) of a model Mapping (--json, --reconcile)."""
    text = escape_mapping_name(mapping.name, view.charset, view.name_method)
    kind, offset = label_kind(text, mapping.start, mapping.end, mapping.dev_major, mapping.dev_minor, start_stack,
                              view)
    return kind, text[offset:] if kind == NAME else render_label(kind, mapping.inode, view.words)


def mapping_label(mapping, start_stack, view):
    """The Mapping column of a model Mapping (--json, --diff)."""
    return mapping_label_kind(mapping, start_stack, view)[1]
