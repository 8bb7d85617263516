"""How a single raw value is read: what counts as missing, and how categories are spelled.

Training and serving both go through these functions, so a value means the same at both ends.
"""

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none"})


def is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in MISSING_TOKENS
    return isinstance(value, float) and value != value  # NaN


def canonical_category(value) -> str:
    """Spell a category one way: '3', '3.0', 3 and 3.0 are the same level; text is stripped."""
    if isinstance(value, bool):
        return str(value).lower()
    text = value.strip() if isinstance(value, str) else str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return text
