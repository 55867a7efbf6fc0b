"""A small writer of real PDF 1.4 files with text pages, for Oaken's sample and generated
corpora. Text is set in Helvetica with WinAnsiEncoding, so Latin-1 accents survive."""


def _escape(text):
    data = text.encode("cp1252", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _wrap(paragraph, width=90):
    line, out = "", []
    for word in paragraph.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(line)
    return out


def _page_stream(paragraphs):
    lines = []
    for paragraph in paragraphs:
        lines.extend(_wrap(paragraph))
        lines.append("")
    ops = [b"BT", b"/F1 10 Tf", b"13 TL", b"56 790 Td"]
    for line in lines[:58]:
        ops.append(b"(" + _escape(line) + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def pdf_bytes(pages, title=None, author=None):
    """`pages` is a list of pages, each a list of paragraphs (strings); an empty list makes an
    empty page. Returns the bytes of a complete PDF with an xref table."""
    objects = []  # index i holds object number i + 1

    def add(body):
        objects.append(body)
        return len(objects)

    catalog = add(None)
    page_tree = add(None)
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    info_fields = []
    if title:
        info_fields.append(b"/Title (" + _escape(title) + b")")
    if author:
        info_fields.append(b"/Author (" + _escape(author) + b")")
    info_fields.append(b"/Producer (Oaken corpus generator)")
    info = add(b"<< " + b" ".join(info_fields) + b" >>")
    empty_stream = None
    kids = []
    for paragraphs in pages:
        if paragraphs:
            stream = _page_stream(paragraphs)
            content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        else:
            if empty_stream is None:
                empty_stream = add(b"<< /Length 0 >>\nstream\n\nendstream")
            content = empty_stream
        kids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (page_tree, content, font)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % page_tree
    objects[page_tree - 1] = (b"<< /Type /Pages /Count %d /Kids [" % len(kids)
                              + b" ".join(b"%d 0 R" % k for k in kids) + b"] >>")

    return serialize(objects, root=catalog, info=info, header=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")


def serialize(objects, root, info=None, header=b"%PDF-1.4\n"):
    """Numbers `objects` from 1 and writes them with an xref table and a trailer."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    info_entry = b" /Info %d 0 R" % info if info else b""
    out += (b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, root, info_entry, xref))
    return bytes(out)
