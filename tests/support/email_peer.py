"""The peer of tests/multipart_mixed.rs: Python's standard `email` package, building
and parsing multipart/mixed bodies.

    python3 email_peer.py build
        prints {"content_type": ..., "body": base64, "parts": TREE}: a nested
        multipart/mixed message built with email.mime, and the parts Python reads
        back from its own bytes.
    python3 email_peer.py parse CONTENT_TYPE < BODY
        prints TREE: the parts email.parser.BytesParser (policy HTTP) reads; fails on
        any defect Python finds.

TREE is a list of parts, each {"headers": [[name, value], ...], "body": base64} or,
for a multipart part, {"headers": [...], "parts": TREE}. Header values are as sent,
unfolded (RFC 5322 2.2.3) and trimmed of spaces and tabs.
"""

import base64
import json
import re
import sys
from email import encoders, policy
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.parser import BytesParser


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unfold(value):
    return re.sub(r"\r?\n(?=[ \t])", "", str(value)).strip(" \t")


def tree(message):
    parts = []
    for part in message.get_payload():
        for defect in part.defects:
            sys.exit(f"defect in a part: {defect!r}")
        # As sent: policy HTTP would re-quote Content-Type parameters.
        headers = [[name, unfold(value)] for name, value in part.raw_items()]
        if part.is_multipart():
            parts.append({"headers": headers, "parts": tree(part)})
        else:
            parts.append({"headers": headers, "body": b64(part.get_payload(decode=True) or b"")})
    return parts


def part(maintype, subtype, data, **headers):
    """A leaf part whose data is sent as it is (8bit or binary)."""
    message = MIMEBase(maintype, subtype)
    message.set_payload(data)
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message


def build():
    # Binary data with CRLF line ends only: the generator rewrites bare CR and LF.
    binary = bytes(b for b in range(256) if b not in (10, 13)) + b"\r\n\x00\xff\r\n"
    outer = MIMEMultipart("mixed", boundary="batch_outer-1'()+_,-./:=?")
    outer.preamble = "This is the preamble; parsers skip it."
    outer.epilogue = "epilogue, also skipped"
    outer.attach(
        part(
            "application",
            "http",
            b"GET /users/1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
            Content_Transfer_Encoding="binary",
            Content_ID="<item-1>",
        )
    )
    outer.attach(
        part(
            "text",
            "plain",
            "h\u00e9llo w\u00f6rld\r\nsecond line".encode("utf-8"),
            Content_Transfer_Encoding="8bit",
            X_Long="folded " * 20,
        )
    )
    inner = MIMEMultipart("mixed")  # Python's own boundary: "===...==", quoted
    inner.attach(
        part("application", "octet-stream", binary, Content_Transfer_Encoding="binary")
    )
    inner.attach(part("application", "json", b'{"a": [1, 2]}', Content_ID="<item-2>"))
    deeper = MIMEMultipart("alternative")
    deeper.attach(part("text", "plain", b"plain"))
    deeper.attach(part("text", "html", b"<p>html</p>"))
    inner.attach(deeper)
    outer.attach(inner)
    outer.attach(part("application", "empty", b""))
    encoded = outer.as_bytes(policy=policy.SMTP)
    head, _, body = encoded.partition(b"\r\n\r\n")
    message = BytesParser(policy=policy.compat32).parsebytes(encoded)
    leaves = [p for p in message.walk() if not p.is_multipart()]
    if leaves[2].get_payload(decode=True) != binary:
        sys.exit("python changed the binary part")
    print(
        json.dumps(
            {
                "content_type": unfold(message["Content-Type"]),
                "body": b64(body),
                "parts": tree(message),
            }
        )
    )


def parse(content_type):
    body = sys.stdin.buffer.read()
    source = b"Content-Type: " + content_type.encode("ascii") + b"\r\n\r\n" + body
    message = BytesParser(policy=policy.HTTP).parsebytes(source)
    for defect in message.defects:
        sys.exit(f"defect in the body: {defect!r}")
    print(json.dumps(tree(message)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        build()
    elif sys.argv[1:2] == ["parse"] and len(sys.argv) == 3:
        parse(sys.argv[2])
    else:
        sys.exit(__doc__)
