"""glibc's getopt_long(), option by option, with its messages word for word.

pmap acts on each option as getopt returns it (-V prints and exits before a
later bad option is seen, -A's argument is checked at once), so this is a
generator: the caller acts on each (key, argument) pair in turn and a
GetoptError is raised where glibc's getopt would print its complaint.

Arguments are bytes; messages are bytes prefixed with argv[0] as given.
"""

__all__ = ["LongOption", "GetoptError", "getopt_long"]


class LongOption:
    """One long option.  ``key`` is what getopt_long returns for it (the
    short option letter).  ``exact_only`` options are matched only when
    spelled in full, so they never make a pmap abbreviation ambiguous."""

    __slots__ = ("name", "has_arg", "key", "exact_only")

    def __init__(self, name, has_arg, key, exact_only=False):
        self.name = name
        self.has_arg = has_arg
        self.key = key
        self.exact_only = exact_only

    def __repr__(self):
        return "LongOption(%r)" % self.name


class GetoptError(Exception):
    """getopt's complaint, one line of bytes without the newline."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def getopt_long(argv, shortopts, longopts, operands, permute=True):
    """Yield (key, argument) for each option of argv[1:]; append the
    operands to the list ``operands``.

    ``shortopts`` is a str like "xA:"; ``longopts`` a sequence of LongOption
    with bytes names.  With ``permute`` false (POSIXLY_CORRECT) options end
    at the first operand, as in glibc.
    """
    program = argv[0] if argv else b""
    index = 1
    count = len(argv)
    while index < count:
        argument = argv[index]
        if argument == b"--":
            operands.extend(argv[index + 1:])
            return
        if not argument.startswith(b"-") or argument == b"-":
            if not permute:
                operands.extend(argv[index:])
                return
            operands.append(argument)
            index += 1
            continue
        if argument.startswith(b"--"):
            index += 1
            option, value, index = _long_option(program, argv, index, argument[2:], longopts)
            yield option.key, value
            continue
        index += 1
        position = 1
        while position < len(argument):
            letter = chr(argument[position])
            position += 1
            spec = shortopts.find(letter)
            if letter == ":" or spec < 0:
                raise GetoptError(b"%s: invalid option -- '%s'" % (program, letter.encode("latin-1")))
            if shortopts[spec + 1:spec + 2] == ":":
                if position < len(argument):
                    value = argument[position:]
                elif index < count:
                    value = argv[index]
                    index += 1
                else:
                    raise GetoptError(b"%s: option requires an argument -- '%s'" % (
                        program, letter.encode("latin-1")))
                yield letter, value
                break
            yield letter, None


def _long_option(program, argv, index, text, longopts):
    """Match --TEXT; returns (option, value, next index)."""
    name, equals, value = text.partition(b"=")
    found = None
    for option in longopts:
        if option.name == name:
            found = option
            break
    if found is None:
        candidates = [option for option in longopts
                      if not option.exact_only and option.name.startswith(name)]
        if candidates:
            first = candidates[0]
            different = [option for option in candidates[1:]
                         if (option.has_arg, option.key) != (first.has_arg, first.key)]
            if different:
                listed = b"".join(b" '--%s'" % option.name for option in [first] + different)
                raise GetoptError(b"%s: option '--%s' is ambiguous; possibilities:%s" % (program, text, listed))
            found = first
    if found is None:
        raise GetoptError(b"%s: unrecognized option '--%s'" % (program, text))
    if equals:
        if not found.has_arg:
            raise GetoptError(b"%s: option '--%s' doesn't allow an argument" % (program, found.name))
        return found, value, index
    if found.has_arg:
        if index < len(argv):
            return found, argv[index], index + 1
        raise GetoptError(b"%s: option '--%s' requires an argument" % (program, found.name))
    return found, None, index
