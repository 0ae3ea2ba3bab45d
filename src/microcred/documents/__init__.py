"""Documents a learner takes away: the PDF certificate with the signed credential inside.

Pure rendering and reading, no HTTP or database: the service layer fetches what to show and
serves the bytes.
"""

from .pdf import (
    CREDENTIAL_FILENAME,
    CREDENTIAL_MEDIA_TYPE,
    MAX_PDF_BYTES,
    CertificateContent,
    certificate_pdf,
    embedded_credential,
)

__all__ = [
    "CREDENTIAL_FILENAME",
    "CREDENTIAL_MEDIA_TYPE",
    "MAX_PDF_BYTES",
    "CertificateContent",
    "certificate_pdf",
    "embedded_credential",
]
