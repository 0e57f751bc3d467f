"""The user's language, as pmap's C library finds it.

pmap calls setlocale(LC_ALL, "") and prints its strings through gettext,
glibc's getopt its complaints through the "libc" catalog.  What the user
sees therefore follows glibc's rules, which this module reproduces from the
environment pmap would have had:

* setlocale(LC_ALL, ""): each category's locale is the first non-empty of
  LC_ALL, LC_<category>, LANG (else "C"); when any of them cannot be loaded,
  every category stays "C";
* gettext: no translation when the LC_MESSAGES locale is C (or POSIX);
  otherwise LANGUAGE (a colon list; empty entries skipped, C or POSIX ends
  it) or else the LC_MESSAGES locale name; each entry through locale.alias,
  then the folders glibc tries for it, most specific first
  (de_DE.UTF-8@euro ... de); a message comes from the first catalog that
  has it, English when none does;
* the text is converted from the catalog's charset to the LC_CTYPE
  locale's, with glibc's transliteration (in the C locale: "ß" -> "ss",
  anything it has no rule for -> "?").

Catalogs are read here (.mo files: magic, counts, offsets); no catalog, no
cost.  OUTPUT_CHARSET is not honoured.
"""

import os

__all__ = ["Language", "from_environment", "locale_names", "catalog_folders"]

LOCALEDIR = b"/usr/share/locale"
_CATEGORIES = (b"LC_CTYPE", b"LC_NUMERIC", b"LC_TIME", b"LC_COLLATE", b"LC_MONETARY", b"LC_MESSAGES",
               b"LC_PAPER", b"LC_NAME", b"LC_ADDRESS", b"LC_TELEPHONE", b"LC_MEASUREMENT", b"LC_IDENTIFICATION")
_C_NAMES = (b"C", b"POSIX")


def locale_names(environ, loadable):
    """(LC_CTYPE, LC_MESSAGES) locale names after setlocale(LC_ALL, "") in
    ``environ`` (bytes); ``loadable(name)`` says whether glibc can load a
    locale."""
    names = {}
    for category in _CATEGORIES:
        name = environ.get(b"LC_ALL") or environ.get(category) or environ.get(b"LANG") or b"C"
        if name not in names:
            names[name] = name in _C_NAMES or loadable(name)
        if not names[name]:
            return b"C", b"C"  # setlocale fails as a whole
    pick = lambda category: environ.get(b"LC_ALL") or environ.get(category) or environ.get(b"LANG") or b"C"
    return pick(b"LC_CTYPE"), pick(b"LC_MESSAGES")


def catalog_folders(messages, environ, localedir=LOCALEDIR):
    """The locale folder names gettext tries, in order, for LC_MESSAGES
    locale ``messages`` (none when it is C)."""
    if messages in _C_NAMES:
        return []
    entries = (environ.get(b"LANGUAGE") or messages).split(b":")
    aliases = None
    folders = []
    for entry in entries:
        if not entry:
            continue
        if entry in _C_NAMES:
            break
        if aliases is None:
            aliases = _aliases(localedir)
        entry = aliases.get(entry.lower(), entry)
        for folder in _explode(entry):
            if folder not in folders:
                folders.append(folder)
    return folders


def _aliases(localedir):
    """locale.alias (in the locale folder's parent's, as glibc's
    LOCALE_ALIAS_PATH): lower-cased alias -> locale name."""
    aliases = {}
    for path in (os.path.join(localedir, b"locale.alias"), b"/usr/share/locale/locale.alias"):
        try:
            with open(path, "rb") as handle:
                data = handle.read(1 << 20)
        except OSError:
            continue
        for line in data.split(b"\n"):
            words = line.split(b"#", 1)[0].split()
            if len(words) >= 2:
                aliases.setdefault(words[0].lower(), words[1])
        break
    return aliases


def _normalized_codeset(codeset):
    """glibc's _nl_normalize_codeset: lower-case letters and digits, "iso"
    before an all-digit name."""
    kept = bytes(byte for byte in codeset.lower() if 48 <= byte <= 57 or 97 <= byte <= 122)
    return b"iso" + kept if kept.isdigit() else kept


def _explode(name):
    """The folders glibc's _nl_make_l10nflist tries for ``name``
    (language[_territory][.codeset][@modifier]), most specific first."""
    language, _, modifier = name.partition(b"@")
    language, dot, codeset = language.partition(b".")
    language, underscore, territory = language.partition(b"_")
    codesets = []
    if dot:
        codesets.append(b"." + codeset)
        normalized = _normalized_codeset(codeset)
        if normalized != codeset:
            codesets.append(b"." + normalized)
    codesets.append(b"")
    folders = []
    for with_modifier in ([b"@" + modifier] if modifier else []) + [b""]:
        for with_territory in ([b"_" + territory] if underscore else []) + [b""]:
            for with_codeset in codesets:
                folders.append(language + with_territory + with_codeset + with_modifier)
    return folders


class Catalog:
    """One .mo file: msgid -> msgstr (bytes) and its charset."""

    def __init__(self, data):
        import struct

        magic = struct.unpack("<I", data[:4])[0]
        order = "<" if magic == 0x950412DE else ">"
        _, count, originals, translations = struct.unpack(order + "4I", data[4:20])
        self.messages = {}
        for index in range(count):
            length, offset = struct.unpack(order + "2I", data[originals + 8 * index:originals + 8 * index + 8])
            msgid = data[offset:offset + length]
            length, offset = struct.unpack(order + "2I", data[translations + 8 * index:translations + 8 * index + 8])
            msgstr = data[offset:offset + length]
            if b"\0" in msgid:  # a plural form: pmap has none
                continue
            self.messages[msgid] = msgstr
        header = self.messages.get(b"", b"")
        self.charset = b"UTF-8"
        for line in header.split(b"\n"):
            if line.lower().startswith(b"content-type:") and b"charset=" in line:
                self.charset = line.split(b"charset=", 1)[1].strip()


def _read_catalog(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = os.read(fd, 16 << 20)
        return Catalog(data) if len(data) >= 20 and data[:4] in (b"\xde\x12\x04\x95", b"\x95\x04\x12\xde") \
            else None
    except (OSError, ValueError, IndexError):
        return None  # struct.error is a ValueError... not always: a damaged file counts as none
    finally:
        os.close(fd)


class Language:
    """The language of one run: the LC_CTYPE and LC_MESSAGES locale names,
    ``codeset`` (the LC_CTYPE locale's, which text is printed in), and
    ``translate(domain)``, the lookup of a domain's messages."""

    def __init__(self, environ, loadable, codeset=b"ANSI_X3.4-1968"):
        self.ctype, self.messages = locale_names(environ, loadable)
        self.folders = catalog_folders(self.messages, environ)
        self.codeset = codeset
        self.localedirs = {}  # domain -> the folder its catalogs are in (LOCALEDIR by default)
        self._lookups = {}

    def translate(self, domain):
        """The function that translates a msgid of ``domain`` (bytes), or
        None when no catalog of the domain is found (English)."""
        if domain in self._lookups:
            return self._lookups[domain]
        localedir = self.localedirs.get(domain, LOCALEDIR)
        catalogs = []
        for folder in self.folders:
            catalog = _read_catalog(b"%s/%s/LC_MESSAGES/%s.mo" % (localedir, folder, domain))
            if catalog is not None:
                catalogs.append(catalog)
        lookup = None
        if catalogs:
            converted = {}

            def lookup(msgid):
                text = converted.get(msgid)
                if text is None:
                    text = msgid
                    for catalog in catalogs:
                        found = catalog.messages.get(msgid)
                        if found:
                            text = self.convert(found, catalog.charset)
                            break
                    converted[msgid] = text
                return text
        self._lookups[domain] = lookup
        return lookup

    def convert(self, text, charset):
        """Catalog text in the output charset, as glibc's gettext converts
        it (iconv with //TRANSLIT)."""
        target = self.codeset
        if _same_charset(charset, target):
            return text
        return _iconv(text, charset, target)


def _same_charset(one, other):
    return _normalized_codeset(one) == _normalized_codeset(other)


def _iconv(text, source, target):
    """glibc's iconv(target//TRANSLIT, source) of ``text``, with the current
    LC_CTYPE locale's transliteration; '?' for what it cannot convert."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.iconv_open.restype = ctypes.c_void_p
        libc.iconv_open.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
        libc.iconv.restype = ctypes.c_size_t
        libc.iconv.argtypes = (ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t),
                               ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t))
        libc.iconv_close.argtypes = (ctypes.c_void_p,)
    except (ImportError, OSError, AttributeError):
        return text
    handle = libc.iconv_open(target + b"//TRANSLIT", source)
    if handle in (None, ctypes.c_void_p(-1).value):
        return text
    try:
        source_buffer = ctypes.create_string_buffer(text, len(text))
        room = len(text) * 8 + 16
        target_buffer = ctypes.create_string_buffer(room)
        source_pointer = ctypes.c_char_p(ctypes.addressof(source_buffer))
        source_left = ctypes.c_size_t(len(text))
        target_pointer = ctypes.c_char_p(ctypes.addressof(target_buffer))
        target_left = ctypes.c_size_t(room)
        out = bytearray()
        while source_left.value:
            result = libc.iconv(handle, ctypes.byref(source_pointer), ctypes.byref(source_left),
                                ctypes.byref(target_pointer), ctypes.byref(target_left))
            if result == ctypes.c_size_t(-1).value:
                # a character it cannot convert: glibc's gettext shows '?'
                out += target_buffer.raw[:room - target_left.value] + b"?"
                consumed = len(text) - source_left.value
                skip = _character_length(text, consumed)
                rest = text[consumed + skip:]
                source_buffer = ctypes.create_string_buffer(rest, len(rest))
                source_pointer = ctypes.c_char_p(ctypes.addressof(source_buffer))
                source_left = ctypes.c_size_t(len(rest))
                text = rest
                target_pointer = ctypes.c_char_p(ctypes.addressof(target_buffer))
                target_left = ctypes.c_size_t(room)
                continue
        out += target_buffer.raw[:room - target_left.value]
        return bytes(out)
    finally:
        libc.iconv_close(handle)


def _character_length(text, position):
    """The length of the UTF-8 character at ``position`` (1 for a bad byte)."""
    lead = text[position] if position < len(text) else 0
    length = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    return min(length, len(text) - position) or 1


def from_environment(environ):
    """The Language of a run with ``environ`` (bytes), with this process's
    LC_CTYPE set to the locale pmap's would have (its isprint(), mblen() and
    transliteration are pmap's then)."""
    import _locale

    def loadable(name):
        try:
            _locale.setlocale(_locale.LC_CTYPE, os.fsdecode(name))
            return True
        except (_locale.Error, ValueError):
            return False

    language = Language(environ, loadable)
    if not loadable(language.ctype):
        _locale.setlocale(_locale.LC_CTYPE, "C")
    language.codeset = _locale.nl_langinfo(_locale.CODESET).encode("ascii", "replace")
    return language


def printf(translated, english, arguments):
    """C's printf() of a catalog's format with ``arguments``: a translation
    may take them in another order ("%2$s ... %1$s", as glibc allows); the
    English format when Python's % cannot take the translation."""
    try:
        return _positional(translated, arguments)
    except (TypeError, ValueError, IndexError):
        return english % arguments


def _positional(text, arguments):
    """``text`` % ``arguments``, its "%N$" conversions taken in their order."""
    if b"$" not in text:
        return text % arguments
    order = []
    parts = []
    position = 0
    while True:
        percent = text.find(b"%", position)
        if percent < 0:
            break
        if text[percent + 1:percent + 2] == b"%":
            position = percent + 2
            continue
        digits = percent + 1
        while digits < len(text) and 48 <= text[digits] <= 57:
            digits += 1
        if digits > percent + 1 and text[digits:digits + 1] == b"$":
            order.append(int(text[percent + 1:digits]) - 1)
            parts.append(text[position:percent + 1])
            position = digits + 1
        else:
            raise ValueError("positional and plain conversions mixed")
    parts.append(text[position:])
    if sorted(set(order)) != list(range(len(arguments))):
        raise ValueError("the conversions do not take each argument")
    return b"".join(parts) % tuple(arguments[index] for index in order)
