"""Model fields of the scorecards app."""

import json

import orjson
from django.db import models


def dumps(value) -> str:
    """JSON text, with orjson: several times faster than the standard library."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class FastJSONEncoder(json.JSONEncoder):
    """Encodes a JSONField's value with orjson (the same JSON; only whitespace differs)."""

    def encode(self, o) -> str:
        return dumps(o)


class JSONDocumentField(models.JSONField):
    """A JSON document stored as text: written whole, read whole, never queried inside.

    jsonb makes PostgreSQL parse every value into its binary form as it is written, a
    large part of the time a scorecard takes to store (figures: benchmarks/RESULTS.md).
    As text it is only copied (and compressed). Lookups into the value
    (`explanation__data__...`) are not available on PostgreSQL; read the document.
    """

    def get_internal_type(self):
        # A text column to the schema editor too, so that changing a column between this
        # and jsonb casts its values (USING) in either direction.
        return "TextField"

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        return dumps(value)

    def from_db_value(self, value, expression, connection):
        return None if value is None else orjson.loads(value)
