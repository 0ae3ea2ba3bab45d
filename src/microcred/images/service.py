"""Achievement images are copied, not linked: an image URL on another host is fetched once,
through the one SSRF-safe fetcher, checked like a logo, stored, and the achievement (and every
credential awarded from it) names our copy. Pages then load nothing from a third party, and a
badge does not change or vanish when the other host changes.

The copy happens before the achievement's transaction takes its locks (a slow host holds no
lock), and a fetch that fails or an image that is refused is the request's 422, naming the field.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import StoredImage
from ..fetch import FetchError, SafeFetcher
from ..problems import UnprocessableContent, field_error
from .checks import ImageError, check_image

__all__ = ["badge_of", "image_url", "keep_copy", "stored"]

_ACCEPT = "image/png, image/jpeg, image/svg+xml;q=0.9"


def image_url(base_url: str, digest: str) -> str:
    return f"{base_url}/images/{digest}"


async def keep_copy(session: AsyncSession, fetcher: SafeFetcher, url: str, *, base_url: str, pointer: str = "/image") -> str:
    """Our URL for the image at ``url``: the URL itself when it is already ours, else a copy."""
    if url.startswith(base_url + "/"):
        return url
    try:
        fetched = await fetcher.fetch(url, accept=_ACCEPT)
        image = check_image(fetched.body, what="badge image")
    except FetchError as exc:
        raise UnprocessableContent(
            f"the image could not be copied from {url}: {exc}", errors=[field_error(pointer, f"could not be fetched: {exc}")]
        ) from None
    except ImageError as exc:
        raise UnprocessableContent(f"the image at {url} was refused: {exc}", errors=[field_error(pointer, str(exc))]) from None
    digest = hashlib.sha256(image.content).hexdigest()  # the whole hash: the URL names these bytes for good
    if await session.get(StoredImage, digest) is None:
        session.add(StoredImage(digest=digest, media_type=image.media_type, content=image.content, source_url=url))
        await session.flush()
    return image_url(base_url, digest)


async def stored(session: AsyncSession, digest: str) -> tuple[str, bytes] | None:
    """The media type and bytes of a stored image, or None."""
    row = (await session.execute(select(StoredImage.media_type, StoredImage.content).where(StoredImage.digest == digest))).first()
    return (row[0], row[1]) if row is not None else None


async def badge_of(session: AsyncSession, document: dict[str, Any], base_url: str) -> tuple[str, bytes] | None:
    """The stored image a credential's achievement names (media type and bytes), for the baked
    badge and the PDF; None when it names none of ours (the default badge stands in)."""
    achievement = document.get("credentialSubject", {}).get("achievement", {})
    image = achievement.get("image") if isinstance(achievement, dict) else None
    url = image.get("id") if isinstance(image, dict) else image
    prefix = f"{base_url}/images/"
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    return await stored(session, url.removeprefix(prefix))
