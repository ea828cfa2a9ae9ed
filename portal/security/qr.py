"""QR codes for authenticator apps, drawn on the server as SVG."""

from __future__ import annotations

import base64

import qrcode
from qrcode.image.svg import SvgPathImage


def qr_data_uri(text: str) -> str:
    """Return ``text`` as a QR code in a ``data:image/svg+xml`` URI.

    An ``<img>`` with a data URI fits the Content Security Policy, which
    allows data: images but no inline styles.
    """
    image = qrcode.make(text, image_factory=SvgPathImage, box_size=8, border=2)
    svg: bytes = image.to_string(encoding="utf-8")
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
