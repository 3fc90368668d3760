"""Model fields of the scorecards app."""

import json

import orjson


class FastJSONEncoder(json.JSONEncoder):
    """Encodes a JSONField's value with orjson, several times faster than the standard library.

    Each computed scorecard writes kilobytes of explanation, and each recompute writes
    a thousand of them. Same JSON values; only the whitespace differs.
    """

    def encode(self, o) -> str:
        return orjson.dumps(o, option=orjson.OPT_NON_STR_KEYS).decode()
