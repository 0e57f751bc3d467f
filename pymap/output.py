"""stdout and stderr as a C program has them: glibc's stdio, pmap's messages.

pmap prints through stdio: stdout is block-buffered (blocks of the file's
st_blksize, at most BUFSIZ) unless it is a terminal, where it is
line-buffered; stderr is unbuffered.  Where stdout and stderr share a pipe
(``pmap ... 2>&1 | less``) the reader sees the table in those blocks with
the messages between them, so pymap writes the same blocks:

* ``StdioStream`` is a FILE: the same buffer size and the same points where
  glibc's fwrite()/printf() hand the buffer to write(2);
* ``Console`` is pmap's pair of streams with its message functions.  Up to
  4.0.5 pmap's messages come from error(), which flushes stdout first; from
  4.0.6 from warnx(), which does not.  At exit, close_stdout() (procps's
  lib/fileutils.c) flushes stdout and reports a write error, except EPIPE.

A write that fails with EPIPE (the reader went away and SIGPIPE is ignored,
as pmap may inherit it) is dropped silently, as stdio drops it; with
SIGPIPE at its default the kernel ends pymap as it would end pmap.
"""

import errno
import os

__all__ = ["StdioStream", "Console", "BUFSIZ", "HOLD_LIMIT"]

BUFSIZ = 8192  # glibc's default, and its largest st_blksize-based buffer
HOLD_LIMIT = 4 << 20  # how much of one process's listing Console.hold() keeps back

FULL, LINE, UNBUFFERED = "full", "line", "unbuffered"


class StdioStream:
    """A stdio FILE writing through ``sink(bytes) -> int`` (os.write on a
    descriptor, or a test's collector).  ``buffering`` is FULL, LINE or
    UNBUFFERED and ``size`` the buffer size; for a descriptor, for_fd()
    asks fstat() as glibc does."""

    __slots__ = ("sink", "buffering", "size", "buffer", "failed", "error")

    def __init__(self, sink, buffering=FULL, size=4096):
        self.sink = sink
        self.buffering = buffering
        self.size = size
        self.buffer = bytearray()
        self.failed = False  # ferror()
        self.error = 0  # errno of the last failed write

    @classmethod
    def for_fd(cls, fd, unbuffered=False):
        """The stream glibc sets up on descriptor ``fd`` at its first write."""
        def sink(data):
            return os.write(fd, data)

        if unbuffered:
            return cls(sink, UNBUFFERED, 1)
        size = BUFSIZ
        buffering = FULL
        try:
            status = os.fstat(fd)
        except OSError:
            return cls(sink, FULL, size)
        if 0 < status.st_blksize < BUFSIZ:
            size = status.st_blksize
        if os.isatty(fd):
            buffering = LINE
        return cls(sink, buffering, size)

    def _emit(self, data):
        """write(2) all of ``data``; False (and ferror set) when it fails."""
        view = memoryview(data)
        while view:
            try:
                written = self.sink(view)
            except InterruptedError:
                continue
            except OSError as error:
                self.failed = True
                self.error = error.errno or errno.EIO
                return False
            view = view[written:]
        return True

    def write(self, data):
        """fwrite()/printf(): as glibc's _IO_new_file_xsputn() passes data
        to the buffer and the buffer to write(2)."""
        if not data:
            return
        buffer = self.buffer
        if self.buffering == UNBUFFERED:
            self._emit(data)
            return
        space = self.size - len(buffer)
        if self.buffering == LINE:
            newline = data.rfind(b"\n")
            if newline < 0 and len(data) <= space:
                buffer += data
                return
            if newline >= 0 and newline < space:
                buffer += data[:newline + 1]
                self.flush()
                rest = data[newline + 1:]
                if rest:
                    self.write(rest)
                return
        elif len(data) <= space:
            buffer += data
            return
        # fill the buffer, hand it over, write whole blocks directly and
        # keep the rest (glibc "tries to maintain alignment")
        buffer += data[:space]
        rest = memoryview(data)[space:]
        self.flush()
        whole = len(rest) - len(rest) % self.size if self.size >= 128 else len(rest)
        if whole:
            self._emit(rest[:whole])
            rest = rest[whole:]
        if rest:
            self.write(bytes(rest))

    def flush(self):
        """fflush(): False when the write failed (the buffer is emptied
        anyway, as glibc empties it)."""
        if not self.buffer:
            return True
        data = bytes(self.buffer)
        self.buffer.clear()
        return self._emit(data)

    @property
    def pending(self):
        return len(self.buffer)


class Console:
    """pmap's stdout and stderr, its messages, and what it does at exit.

    ``program`` is the name messages start with, ``flushing_messages``
    whether a message flushes stdout first (error() up to 4.0.5) or not
    (warnx() from 4.0.6).  hold() keeps one process's listing back (up to
    HOLD_LIMIT bytes) until release() or discard()."""

    def __init__(self, program, stdout, stderr, flushing_messages=True):
        self.program = program
        self.stdout = stdout
        self.stderr = stderr
        self.flushing_messages = flushing_messages
        self.held = None
        self.held_size = 0
        # pmap's catalog and glibc's (language.Language.translate): None for English
        self.translate = None
        self.translate_libc = None
        # on a terminal, control characters of names are shown as '?'
        # (escape.terminal_safe; None: stdout is no terminal)
        self.terminal = None

    def pmap_text(self, msgid, *arguments):
        """One of pmap's strings (a printf format when ``arguments`` are
        given) in the user's language."""
        text = self.translate(msgid) if self.translate is not None else msgid
        if not arguments:
            return text
        from .language import printf

        return printf(text, msgid, arguments)

    def pmap_message(self, msgid, *arguments):
        """One of pmap's messages, in the user's language."""
        self.message(self.pmap_text(msgid, *arguments))

    def write(self, data):
        if self.terminal is not None:
            data = self.terminal(data)
        if self.held is not None:
            self.held.append(data)
            self.held_size += len(data)
            if self.held_size > HOLD_LIMIT:
                self.release()
            return
        self.stdout.write(data)

    def hold(self):
        self.held = []
        self.held_size = 0

    def release(self):
        """Write what was held; True when nothing had to be written before."""
        held, self.held = self.held, None
        if held:
            self.stdout.write(b"".join(held))
        return held is not None

    def discard(self):
        """Drop what is held; False when part of it was written already."""
        was_holding = self.held is not None
        self.held = None
        return was_holding

    def message(self, text):
        """A line "program: text" on stderr, as pmap's error()/warnx()."""
        if self.flushing_messages:
            if self.held:  # what pmap would have printed by now
                self.stdout.write(b"".join(self.held))
                self.held = []
                self.held_size = 0
            self.stdout.flush()
        self.stderr.write(b"%s: %s\n" % (self.program, text))

    def raw_error(self, text):
        """Bytes on stderr as they are (getopt's complaints, the usage text):
        stdout is not flushed first."""
        self.stderr.write(text)

    def close(self, status, strerror=os.strerror, write_error=b"write error"):
        """procps's close_stdout() at exit: the status to exit with."""
        self.release()
        stdout = self.stdout
        some_pending = stdout.pending != 0
        prev_fail = stdout.failed
        fclose_fail = not stdout.flush() if some_pending else False
        if prev_fail or fclose_fail:
            error = stdout.error if fclose_fail or stdout.error == errno.EPIPE else 0
            if error != errno.EPIPE:
                detail = b""
                if error:
                    reason = strerror(error).encode()
                    if self.translate_libc is not None:
                        reason = self.translate_libc(reason)
                    detail = b": " + reason
                self.stderr.write(b"%s: %s%s\n" % (self.program, self.pmap_text(write_error), detail))
                return 1
        self.stderr.flush()
        return status
