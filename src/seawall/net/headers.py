"""Case-insensitive header mapping: names are stored lower-cased, lookups lower-case the key."""
from __future__ import annotations


class Headers(dict):
    """A dict of lower-cased header names to values; repeated headers are joined with ", "."""

    __slots__ = ()

    @classmethod
    def from_raw(cls, raw: list[tuple[bytes, bytes]]) -> "Headers":
        h = cls()
        for name, value in raw:
            k = name.decode("latin-1").lower()
            v = value.decode("latin-1")
            old = dict.get(h, k)
            dict.__setitem__(h, k, v if old is None else f"{old}, {v}")
        return h

    def get(self, key: str, default=None):
        return dict.get(self, key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return dict.__getitem__(self, key.lower())

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key.lower() if isinstance(key, str) else key)

    def __setitem__(self, key: str, value: str) -> None:
        dict.__setitem__(self, key.lower(), value)

    def getall(self, key: str) -> list[str]:
        v = self.get(key)
        return [] if v is None else [p.strip() for p in v.split(",")]
