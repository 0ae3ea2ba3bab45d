"""Every table, one module per aggregate; Alembic's env imports this package for the metadata."""

from ..base import Base
from .achievement import Achievement, AchievementVersion
from .api_client import ApiClient
from .audit import AuditChainHead, AuditEntry
from .bulk import BulkMapping, BulkUpload
from .credential import Credential
from .email import EmailDelivery, EmailPace
from .endorsement import Endorsement
from .image import StoredImage
from .issuer import Issuer
from .job import Job, JobRow
from .correction import NameCorrection
from .learner import AddressLink, Learner, LearnerAddress, LearnerCredential, LearnerSession, ShareLink, SignInLink
from .oauth import AuthorizationCode, OAuthClient, OAuthToken
from .passkey import LearnerPasskey, LearnerPasskeyChallenge, PasskeyChallenge, PasskeyRequirement, StaffPasskey, StaffSessionPasskey
from .pathway import Pathway, PathwayCompletion, PathwayComponent
from .staff import StaffMember, StaffRole, StaffSession, StaffSignInAttempt, StaffSignInLink
from .status_list import StatusList
from .usage import CredentialUsage
from .vcapi_credential import VcApiCredential
from .webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Achievement",
    "AchievementVersion",
    "ApiClient",
    "AuditChainHead",
    "AuditEntry",
    "AuthorizationCode",
    "Base",
    "BulkMapping",
    "BulkUpload",
    "Credential",
    "CredentialUsage",
    "EmailDelivery",
    "EmailPace",
    "Endorsement",
    "Issuer",
    "Job",
    "JobRow",
    "AddressLink",
    "Learner",
    "LearnerAddress",
    "LearnerCredential",
    "LearnerPasskey",
    "LearnerPasskeyChallenge",
    "LearnerSession",
    "NameCorrection",
    "ShareLink",
    "OAuthClient",
    "OAuthToken",
    "PasskeyChallenge",
    "PasskeyRequirement",
    "Pathway",
    "PathwayCompletion",
    "PathwayComponent",
    "SignInLink",
    "StaffMember",
    "StaffPasskey",
    "StaffRole",
    "StaffSession",
    "StaffSessionPasskey",
    "StaffSignInAttempt",
    "StaffSignInLink",
    "StoredImage",
    "StatusList",
    "VcApiCredential",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
