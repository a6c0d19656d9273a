"""`@creditcard`: card numbers in text (docs/security.md, "Text").

13-19 digits that pass the Luhn check, one unbroken run of digits or groups of 4-6 digits separated
by single spaces, dashes or dots (the last group may be shorter). `filter_cards(text, found)` replaces
each with `[Filtered]` and appends what it removed to `found`.
"""
import re

__all__ = ["luhn_valid", "is_card", "filter_cards", "CARD_MIN"]

SUBSTITUTE = "[Filtered]"
# Integers below this can't be a card number (fewer than 13 digits).
CARD_MIN = 10**12

# Candidates first (a fast class run), then the strict form within each candidate.
_CANDIDATE = re.compile(r"[0-9][0-9 .\-]{11,}[0-9]")
_RUN = re.compile(r"[0-9](?:[ .\-]?[0-9]){12,}")
_GROUP = re.compile(r"[0-9]+")
_SEPARATORS = str.maketrans("", "", " -.")


def luhn_valid(digits):
    """True when the string of digits passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_card(digits):
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


# Relay's `@creditcard`: a vendor prefix and 16 digits in all (15 for Amex), Luhn or not.
_VENDOR = re.compile(r"\b(?:3[47][0-9]|4[0-9]{3}|5[1-5][0-9]{2}|65[0-9]{2}|6011)(?:[-\s]?[0-9]){12}\b")


def filter_cards(text, found):
    """`@creditcard`: `text` with each card number replaced; `found` gets each number as written and
    as digits."""
    if len(text) < 13:
        return text
    seen = []

    def candidate(match):
        seen.append(True)
        return _candidate(match, found)

    text = _CANDIDATE.sub(candidate, text)
    if not seen:  # no run of 13 digits and separators: no vendor number either
        return text
    return _VENDOR.sub(lambda m: found.append(m.group(0)) or SUBSTITUTE, text)


def _candidate(match, found):
    start, text = match.start(), match.group(0)
    if start >= 2 and match.string[start - 1] == "." and match.string[start - 2].isdigit():
        return text  # the fraction of a decimal number
    if "." in text and " " not in text and "-" not in text and text.count(".") == 1:
        return text  # a decimal number (`1234567.891011`), not dotted groups
    return _RUN.sub(lambda m: _run(m, found), text)


def _run(match, found):
    text = match.group(0)
    digits = text.translate(_SEPARATORS)
    if (len(digits) == len(text) or _grouped(text)) and is_card(digits):
        found.append(text)
        found.append(digits)
        return SUBSTITUTE
    if len(digits) == len(text):
        return text
    # A longer run of groups: look for a card among consecutive groups.
    groups = [(m.start(), m.end(), m.group(0)) for m in _GROUP.finditer(text)]
    spans = []
    for i in range(len(groups)):
        if is_card(groups[i][2]):
            found.append(groups[i][2])
            spans.append((groups[i][0], groups[i][1]))
            continue
        if not 4 <= len(groups[i][2]) <= 6:
            continue
        count = 0
        for j in range(i, len(groups)):
            size = len(groups[j][2])
            count += size
            if count > 19:
                break
            if size > 6 or (size < 4 and j != i and count < 13):
                break
            if count >= 13 and luhn_valid("".join(g[2] for g in groups[i : j + 1])):
                found.append(text[groups[i][0] : groups[j][1]])
                found.append("".join(g[2] for g in groups[i : j + 1]))
                spans.append((groups[i][0], groups[j][1]))
                break
    if not spans:
        return text
    out, pos = [], 0
    for start, end in spans:
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append(SUBSTITUTE)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _grouped(text):
    groups = _GROUP.findall(text)
    return all(4 <= len(g) <= 6 for g in groups[:-1]) and 1 <= len(groups[-1]) <= 6
