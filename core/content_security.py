"""Allowing a library's fixed inline styles under the Content-Security-Policy.

The policy (accord/settings.py) allows no inline style. A library page whose template
carries a fixed inline style allows exactly that style, by its hash, on that page only;
tests/reliability/test_content_security_policy.py finds any the browser still blocks.
"""

import base64
import hashlib

from csp.constants import UNSAFE_HASHES


def source_hash(text: str) -> str:
    """The source expression that allows exactly this inline style: a <style> block's
    content, or (with 'unsafe-hashes') a style attribute's value."""
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def style_attributes_allowed(*declarations: str) -> dict[str, list[str]]:
    """A policy update that allows exactly these style="" attribute values."""
    return {"style-src-attr": [UNSAFE_HASHES, *map(source_hash, declarations)]}
