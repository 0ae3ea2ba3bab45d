"""Every table, one module per aggregate; Alembic's env imports this package for the metadata."""

from ..base import Base
from .achievement import Achievement, AchievementVersion
from .api_client import ApiClient
from .credential import Credential
from .issuer import Issuer
from .job import Job, JobRow
from .status_list import StatusList
from .vcapi_credential import VcApiCredential

__all__ = [
    "Achievement", "AchievementVersion", "ApiClient", "Base", "Credential", "Issuer", "Job", "JobRow", "StatusList", "VcApiCredential",
]
