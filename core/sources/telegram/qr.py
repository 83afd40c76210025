"""Draw a URL as a QR code in the terminal: Unicode half blocks, two module rows per line.

Draw the lines with a dark-on-light style (e.g. Rich's "black on white"): "█" and the half
blocks are the code's dark modules, spaces its light ones, and the quiet zone (4 modules, as
the QR standard asks) is included. Pass `invert=True` to draw light modules as blocks instead,
for a terminal's default light-on-dark colours without a style.
"""

from __future__ import annotations

QUIET_ZONE = 4
_GLYPHS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_matrix(url: str, border: int = QUIET_ZONE) -> list[list[bool]]:
    """The QR code's modules (True = dark) including the quiet zone."""
    import segno  # only when a QR login is shown: the desk's start never pays for it

    code = segno.make(url, error="m", micro=False)
    return [[bool(cell) for cell in row] for row in code.matrix_iter(scale=1, border=border)]


def qr_lines(url: str, *, invert: bool = False, border: int = QUIET_ZONE) -> list[str]:
    """The QR code for `url` as text lines; each line packs two module rows (upper, lower)."""
    matrix = qr_matrix(url, border)
    if invert:
        matrix = [[not cell for cell in row] for row in matrix]
    if len(matrix) % 2:
        matrix.append([invert] * len(matrix[0]))
    lines = []
    for top, bottom in zip(matrix[::2], matrix[1::2], strict=True):
        lines.append("".join(_GLYPHS[(a, b)] for a, b in zip(top, bottom, strict=True)))
    return lines
