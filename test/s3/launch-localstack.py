"""Starts LocalStack (S3 only) for the tests: test/support/s3-server.ts runs it with the venv's python.

usage: launch-localstack.py <certificate file to write> <pid of the process starting it>

Before LocalStack it
- ties the server's life to the test run: Linux's PR_SET_PDEATHSIG, so a jest that crashed or was killed leaves
  no server behind (SIGKILL: LocalStack's SIGTERM handler hangs once its output pipe is gone);
- writes the TLS certificate LocalStack insists on making at startup: its own generator fails with pyOpenSSL >= 25
  (no X509.add_extensions). The tests speak plain HTTP; the certificate is only for LocalStack to load.
"""

import ctypes
import datetime
import os
import runpy
import signal
import sys

cert_file, starter_pid = sys.argv[1], int(sys.argv[2])
try:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass  # not Linux: the starter's exit handler stops the server
if os.getppid() != starter_pid:
    sys.exit("the process that started the S3 server is gone")

from cryptography import x509  # noqa: E402 (a dependency of LocalStack)
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(name)
    .issuer_name(name)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(days=1))
    .not_valid_after(now + datetime.timedelta(days=7))
    .sign(key, hashes.SHA256())
)
with open(cert_file, "wb") as f:
    f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    f.write(cert.public_bytes(serialization.Encoding.PEM))

sys.argv = ["localstack"]
runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)
