"""The C library's number parsing, where pmap's behaviour depends on it."""

ULONG_MAX = (1 << 64) - 1
_SPACE = b" \t\n\v\f\r"


def _digit_value(byte):
    if 48 <= byte <= 57:
        return byte - 48
    if 97 <= byte <= 122:
        return byte - 87
    if 65 <= byte <= 90:
        return byte - 55
    return 99


def strtoul(text, base):
    """glibc's strtoul(text, &end, base) for base 0 or 16 (and 8, 10).

    Returns (value, consumed): ``consumed`` is how many bytes of ``text``
    were used, so text[consumed:] is what C's end pointer points at.
    Overflow saturates to ULONG_MAX; a minus sign negates modulo 2**64.
    """
    position = 0
    length = len(text)
    while position < length and text[position] in _SPACE:
        position += 1
    negative = False
    if position < length and text[position] in b"+-":
        negative = text[position] == 45
        position += 1
    if position < length and text[position] == 48:  # '0'
        if base in (0, 16) and position + 1 < length and text[position + 1] in b"xX":
            if position + 2 < length and _digit_value(text[position + 2]) < 16:
                position += 2
                base = 16
            else:
                # "0x" with no hex digit: only the "0" converts
                return 0, position + 1
        elif base == 0:
            base = 8
    if base == 0:
        base = 10
    start = position
    value = 0
    while position < length and _digit_value(text[position]) < base:
        value = value * base + _digit_value(text[position])
        position += 1
    if position == start:
        return 0, 0
    if value > ULONG_MAX:
        return ULONG_MAX, position
    if negative:
        value = (-value) & ULONG_MAX
    return value, position
