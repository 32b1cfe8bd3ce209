"""Write small text PDFs by hand: each page a list of lines, each line (font size, text)."""

from __future__ import annotations


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def content_stream(lines: list[tuple[float, str]]) -> bytes:
    ops, y = ["BT"], 780.0
    for size, text in lines:
        y -= size * 1.6
        ops.append(f"/F1 {size} Tf 1 0 0 1 56 {y:.1f} Tm ({_escape(text)}) Tj")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def make_pdf(pages: list[list[tuple[float, str]] | None], *, shared_pages: int = 0, title: str = "") -> bytes:
    """A PDF with one page per entry of `pages`; `shared_pages` more pages reuse the first page's content stream.

    An empty entry gives a blank page; None gives a page that is only an image (a scan without a text layer).
    """
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    page_tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    streams = []
    image = add(b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
                b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream")
    for lines in pages:
        data = content_stream(lines) if lines else b"q 500 0 0 700 56 46 cm /Im1 Do Q" if lines is None else b""
        stream = add(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
        streams.append(stream)
        kids.append(add(b""))
    for n, stream in zip(kids, streams):
        objects[n - 1] = (
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> "
            b"/XObject << /Im1 %d 0 R >> >> /Contents %d 0 R >>" % (page_tree, font, image, stream)
        )
    for _ in range(shared_pages):
        kids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (page_tree, font, streams[0])
        ))
    info = add(b"<< /Title (%s) >>" % _escape(title).encode("latin-1")) if title else None
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % page_tree
    objects[page_tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
