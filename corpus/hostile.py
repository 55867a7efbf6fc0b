"""Writes the hostile inputs the indexer must survive (`generate.py hostile DIR`). Each file's
expected outcome is listed in hostile/README.md."""
import hashlib
import os
import struct

from pdfwriter import pdf_bytes, serialize

PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key, data):
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def encrypted_pdf(user_password, owner_password):
    """A PDF under the standard security handler (revision 2, 40-bit RC4) that needs a user
    password to open: strings and streams are really encrypted."""
    plain = pdf_bytes([["This text is secret and must not be indexed."]], title="Secret")
    file_id = hashlib.md5(b"oaken-hostile-encrypted").digest()
    permissions = -44
    owner_key = hashlib.md5((owner_password.encode() + PAD)[:32]).digest()[:5]
    o_entry = rc4(owner_key, (user_password.encode() + PAD)[:32])
    key = hashlib.md5((user_password.encode() + PAD)[:32] + o_entry + struct.pack("<i", permissions) + file_id).digest()[:5]
    u_entry = rc4(key, PAD)

    # Re-encrypt each object's stream and strings with its object key.
    out = bytearray()
    pos = 0
    import re
    for match in re.finditer(rb"(\d+) 0 obj\n(.*?)\nendobj\n", plain, re.S):
        number = int(match.group(1))
        body = match.group(2)
        object_key = hashlib.md5(key + struct.pack("<i", number)[:3] + b"\x00\x00").digest()[:10]
        stream = re.search(rb"stream\n(.*)\nendstream", body, re.S)
        if stream:
            body = body[:stream.start(1)] + rc4(object_key, stream.group(1)) + body[stream.end(1):]
        else:
            body = re.sub(rb"\(([^)]*)\)", lambda m: b"<" + rc4(object_key, m.group(1)).hex().encode() + b">", body)
        out += plain[pos:match.start()] + b"%d 0 obj\n" % number + body + b"\nendobj\n"
        pos = match.end()
    out += plain[pos:]
    # Lengths of encrypted streams are unchanged (RC4), but the offsets moved: rebuild the xref.
    return _with_encrypt(bytes(out), o_entry, u_entry, permissions, file_id)


def _with_encrypt(data, o_entry, u_entry, permissions, file_id):
    import re
    head, _, _ = data.partition(b"xref\n")
    objects = list(re.finditer(rb"(\d+) 0 obj\n", head))
    encrypt_number = len(objects) + 1
    head += (b"%d 0 obj\n<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>\nendobj\n"
             % (encrypt_number, o_entry.hex().encode(), u_entry.hex().encode(), permissions))
    objects = list(re.finditer(rb"(\d+) 0 obj\n", head))
    xref = len(head)
    table = b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for m in objects:
        table += b"%010d 00000 n \n" % m.start()
    trailer = (b"trailer\n<< /Size %d /Root 1 0 R /Encrypt %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
               % (len(objects) + 1, encrypt_number, file_id.hex().encode(), file_id.hex().encode(), xref))
    return head + table + trailer


def deflate_bomb_pdf(text_bytes):
    """One page whose compressed content stream of a megabyte or two inflates to `text_bytes`
    of text-showing operators: seconds of parsing per hundred megabytes, so only a time limit
    stops it."""
    import zlib
    run = b"(" + b"bomb " * 200 + b") Tj\n"
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(b"BT /F1 1 Tf 0 0 Td\n")]
    chunk = run * 1000
    for _ in range(text_bytes // len(chunk)):
        parts.append(compressor.compress(chunk))
    parts.append(compressor.compress(b"ET\n"))
    parts.append(compressor.flush())
    stream = b"".join(parts)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return serialize(objects, root=1)


def write(out, name, data):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def hostile(out):
    lecture = pdf_bytes([["A perfectly ordinary lecture about tectonic plates."]] * 3, title="Ordinary")
    write(out, "truncated.pdf", lecture[: len(lecture) // 3])
    write(out, "zero-bytes.pdf", b"")
    write(out, "pdf-named-html.html", lecture)
    write(out, "html-named-pdf.pdf",
          b"<!DOCTYPE html><html><head><title>Not a PDF</title></head><body><p>Markup about glaciers.</p></body></html>")
    write(out, "encrypted.pdf", encrypted_pdf("letmein", "owner-secret"))
    write(out, "thousands-of-empty-pages.pdf", pdf_bytes([[]] * 5000))
    bomb = ['<!DOCTYPE html [<!ENTITY a0 "lol">']
    for i in range(1, 10):
        bomb.append(f'<!ENTITY a{i} "' + f"&a{i - 1};" * 10 + '">')
    bomb.append("]><html><body><p>&a9;</p><p>entity bomb survivor</p></body></html>")
    write(out, "entity-bomb.html", "\n".join(bomb).encode())
    depth = 100_000
    write(out, "nested-100000.html",
          b"<html><body>" + b"<div>" * depth + b"deeply nested words" + b"</div>" * depth + b"</body></html>")
    write(out, "deflate-bomb.pdf", deflate_bomb_pdf(600 << 20))
    write(out, "invalid-utf8.txt", b"valid start \xff\xfe\xc3\x28 broken \xe2\x82 sequences end\n")
    # One element with 200,000 attributes (2.3 MB): libxml2 checks each new attribute against
    # all the earlier ones and walks the list to append it, quadratic in the count.
    attributes = b"".join(b' a%d="x"' % i for i in range(200_000))
    write(out, "many-attributes.html",
          b"<html><body><div" + attributes + b">attribute flood survivor</div></body></html>")
