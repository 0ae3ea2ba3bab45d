"""The audit log: every award, revocation, suspension, key rotation and admin action, who did it
and when, in hash chains (one per issuer, one for the service's own actions) that ``microcred
audit verify`` checks."""

from .chain import GENESIS, entry_hash
from .service import ChainBreak, ChainReport, append, verify_chain

__all__ = ["GENESIS", "ChainBreak", "ChainReport", "append", "entry_hash", "verify_chain"]
