"""One-page PDFs written byte by byte, to test the content-stream interpreter on operators that
reportlab never emits (TJ arrays, T*, ', ", Tz, form XObjects, page rotation)."""

from pathlib import Path


def raw_pdf(path: Path, content: bytes, *, rotate: int = 0, form: bytes | None = None) -> Path:
    """A4 page drawing `content`, with fonts /F1 (Helvetica) and /F2 (Helvetica-Bold) and, when
    given, a form XObject /X1 drawing `form` (its /Matrix translates it by 100, 50)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate %d "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> /XObject << /X1 7 0 R >> >> "
        b"/Contents 6 0 R >>" % rotate,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content) + 1, content),
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Matrix [1 0 0 1 100 50] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Length %d >>\nstream\n%s\nendstream"
        % (len(form or b"") + 1, form or b""),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        start,
    )
    path.write_bytes(bytes(out))
    return path
